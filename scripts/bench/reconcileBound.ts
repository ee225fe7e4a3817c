/**
 * The lower bound on wall time that ARM latency and throttling allow for a set of calls (bench/README.md):
 *   latency bound  = calls × latency / concurrency            (at most `concurrency` calls in flight, each ≥ latency)
 *   throttle bound = max over token buckets b of (calls_b − bucketSize_b) / refillPerSec_b   (0 when calls_b ≤ bucket)
 *   bound          = max(latency bound, throttle bound)
 * A bucket is (principal, subscription or tenant scope, kind) as in the simulator and in ARM; only calls the
 * simulator answered (not 429s) count, since a throttled call consumed no token.
 */
export interface BucketLimits {
  readBucket: number;
  readRefillPerSec: number;
  writeBucket: number;
  writeRefillPerSec: number;
}

export interface BucketCalls {
  key: string;
  kind: 'read' | 'write' | 'delete';
  calls: number;
}

export interface Bound {
  boundSeconds: number;
  latencyBoundSeconds: number;
  throttleBoundSeconds: number;
  /** The bucket that sets the throttle bound (undefined when none exceeds its size). */
  busiestBucket: string | undefined;
  boundBy: 'latency' | 'throttle';
}

export function reconcileBound(buckets: readonly BucketCalls[], latencyMs: number, concurrency: number, limits: BucketLimits): Bound {
  const total = buckets.reduce((s, b) => s + b.calls, 0);
  const latencyBoundSeconds = (total * latencyMs) / 1000 / Math.max(1, concurrency);
  let throttleBoundSeconds = 0;
  let busiestBucket: string | undefined;
  for (const b of buckets) {
    const size = b.kind === 'read' ? limits.readBucket : limits.writeBucket;
    const refill = b.kind === 'read' ? limits.readRefillPerSec : limits.writeRefillPerSec;
    const t = Math.max(0, b.calls - size) / refill;
    if (t > throttleBoundSeconds) {
      throttleBoundSeconds = t;
      busiestBucket = `${b.kind} ${b.key}`;
    }
  }
  const boundSeconds = Math.max(latencyBoundSeconds, throttleBoundSeconds);
  return { boundSeconds, latencyBoundSeconds, throttleBoundSeconds, busiestBucket, boundBy: throttleBoundSeconds > latencyBoundSeconds ? 'throttle' : 'latency' };
}
