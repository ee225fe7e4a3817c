/**
 * The logger `lib` code takes. Functions adapt their InvocationContext to it (functions/logAdapter);
 * the CLI and sandbox write JSON lines to stderr. Every line is an event name plus fields; never secrets.
 */
export type LogFields = Record<string, unknown>;
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` (tenantId, invocationId…). */
  child(fields: LogFields): Logger;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogSink = (level: LogLevel, event: string, fields: LogFields) => void;

// Keys whose values are never logged, whatever a caller passes.
const SECRET_KEY = /(connectionstring|sharedaccesskey|primarykey|secondarykey|accountkey|password|secret|token|signature|sig)$/i;
const SECRET_VALUE = /(SharedAccessKey=|AccountKey=|sig=)[^;&\s"]+/g;

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(SECRET_VALUE, '$1***');
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Error) return { name: value.name, message: redact(value.message, depth + 1) };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '***' : redact(v, depth + 1);
  return out;
}

export function createLogger(sink: LogSink, base: LogFields = {}): Logger {
  const emit = (level: LogLevel) => (event: string, fields: LogFields = {}) => sink(level, event, redact({ ...base, ...fields }) as LogFields);
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => createLogger(sink, { ...base, ...fields }),
  };
}

/** JSON lines on stderr; used by the CLI, sandbox and bench. */
export function stderrLogger(minLevel: LogLevel = 'info', base: LogFields = {}): Logger {
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  return createLogger((level, event, fields) => {
    if (order.indexOf(level) < order.indexOf(minLevel)) return;
    process.stderr.write(`${JSON.stringify({ level, event, ...fields })}\n`);
  }, base);
}

/** Collects lines in memory (tests, sandbox report). */
export function memoryLogger(): Logger & { lines: { level: LogLevel; event: string; fields: LogFields }[] } {
  const lines: { level: LogLevel; event: string; fields: LogFields }[] = [];
  const logger = createLogger((level, event, fields) => lines.push({ level, event, fields }));
  return Object.assign(logger, { lines });
}

export const silentLogger: Logger = createLogger(() => {});
