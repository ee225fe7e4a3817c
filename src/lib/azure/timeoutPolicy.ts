import { RestError, type PipelinePolicy } from '@azure/core-rest-pipeline';

/**
 * Per-try timeout for ARM calls. The SDKs send every request with `timeout: 0` (wait forever), so one hung
 * connection would stall a reconcile run until the Functions host kills it. This policy runs per retry: it sets
 * `request.timeout` when the caller did not, and turns the resulting abort into a `RestError` with code
 * `ETIMEDOUT`, which the SDK's exponential retry strategy retries like any other transport error.
 */
export function timeoutPolicy(timeoutMs: number): PipelinePolicy {
  return {
    name: 'mdrTimeoutPolicy',
    async sendRequest(request, next) {
      if (!(request.timeout > 0)) request.timeout = timeoutMs;
      try {
        return await next(request);
      } catch (e) {
        // An abort the caller asked for stays an abort; only our own timer becomes a retriable timeout.
        if ((e as { name?: unknown }).name === 'AbortError' && !request.abortSignal?.aborted)
          throw new RestError(`ARM request timed out after ${request.timeout} ms: ${request.method} ${request.url.split('?')[0]}`, { code: 'ETIMEDOUT', request });
        throw e;
      }
    },
  };
}
