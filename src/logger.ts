/**
 * One JSON object per line on stdout/console: Workers Logs indexes JSON fields and
 * Kubernetes log shippers (Loki, ELK) parse it without extra config.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keys whose values never reach a log line, wherever they appear. */
const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|card|cvc|signature/i;

/**
 * drizzle's "Failed query: <sql>\nparams: <values>" carries the bound values (password and
 * token hashes, emails, addresses): keep the SQL, which says what failed, drop the values.
 */
const withoutParams = (text: string | undefined) => text?.replace(/\nparams: [\s\S]*?(?=\n {4}at |$)/, '\nparams: [redacted]');

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    // drizzle wraps driver errors; the cause carries the SQLSTATE and the real message.
    const cause = value.cause === undefined ? {} : { cause: redact(value.cause, depth + 1) };
    const code = (value as { code?: unknown }).code;
    const message = withoutParams(value.message);
    return { name: value.name, message, ...(typeof code === 'string' ? { code } : {}), stack: withoutParams(value.stack), ...cause };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

export interface JsonLoggerOptions {
  level?: LogLevel;
  base?: LogFields;
  /** Where lines go; defaults to console.log so both runtimes capture it. */
  sink?: (line: string) => void;
}

export function createJsonLogger(opts: JsonLoggerOptions = {}): Logger {
  const min = RANK[opts.level ?? 'info'];
  const sink = opts.sink ?? ((line: string) => console.log(line));
  const base = opts.base ?? {};
  const write = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const entry = { time: new Date().toISOString(), level, msg, ...base, ...(redact(fields ?? {}) as LogFields) };
    sink(JSON.stringify(entry));
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createJsonLogger({ ...opts, base: { ...base, ...fields } }),
  };
}

/** Collects log entries in memory: tests assert on what was (and was not) logged. */
export function createMemoryLogger(): Logger & { entries: LogFields[] } {
  const entries: LogFields[] = [];
  const logger = createJsonLogger({ level: 'debug', sink: (line) => entries.push(JSON.parse(line) as LogFields) });
  return Object.assign(logger, { entries });
}
