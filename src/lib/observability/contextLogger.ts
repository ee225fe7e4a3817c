import type { InvocationContext } from '@azure/functions';
import { createLogger, type LogFields, type Logger } from '../log.js';

/**
 * Adapts a Functions InvocationContext to the lib Logger. Each line is `event {json fields}` so it is
 * searchable in Application Insights traces; invocationId and functionName ride on every line.
 */
export function contextLogger(ctx: InvocationContext, base: LogFields = {}): Logger {
  return createLogger(
    (level, event, fields) => {
      const line = `${event} ${JSON.stringify(fields)}`;
      if (level === 'error') ctx.error(line);
      else if (level === 'warn') ctx.warn(line);
      else if (level === 'debug') ctx.debug(line);
      else ctx.info(line);
    },
    { invocationId: ctx.invocationId, functionName: ctx.functionName, ...base },
  );
}
