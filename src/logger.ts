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

/** JSON for one key, ready to be followed by a value: `"key":` (cached per key name, bounded). */
interface KeyInfo {
  /** `"key":` */
  prefix: string;
  /** Its value is always written as "[redacted]" (SECRET_KEY). */
  secret: boolean;
  /**
   * False for a key the line cannot be concatenated for: an integer-like key (JSON.stringify puts
   * those first) or one of the line's own keys (time, level, msg), which the object path handles.
   */
  plain: boolean;
}
const KEYS = new Map<string, KeyInfo>();
const KEY_CACHE_MAX = 1000;
const OWN_KEYS = new Set(['time', 'level', 'msg']);
function keyInfo(key: string): KeyInfo {
  let info = KEYS.get(key);
  if (info) return info;
  info = { prefix: `${JSON.stringify(key)}:`, secret: SECRET_KEY.test(key), plain: !OWN_KEYS.has(key) && !/^(0|[1-9]\d*)$/.test(key) };
  if (KEYS.size < KEY_CACHE_MAX) KEYS.set(key, info);
  return info;
}

/** A value JSON.stringify writes as it is: the only kind the concatenated line takes. */
const isPrimitive = (v: unknown) => v === null || (typeof v !== 'object' && typeof v !== 'function');

/**
 * One logger: the level threshold, the sink and the bound fields. The bound fields are also kept
 * as JSON text (`"runtime":"node","version":"1.2.3"`), so a line whose fields are primitives is
 * concatenated, key by key, with no intermediate object (an access line per request was the
 * largest cost of a cheap request on Node). Anything else (nested values, errors, a key that
 * repeats a bound one with another value) takes the object path. Both produce the same text:
 * `{time, level, msg, ...base, ...redact(fields)}` through JSON.stringify.
 */
class JsonLogger implements Logger {
  /** The bound fields as one object, built only when the object path needs it. */
  private merged: LogFields | undefined;

  constructor(
    private readonly min: number,
    private readonly sink: (line: string) => void,
    /** The logger this one was made from by `child`, whose bound fields come first. */
    private readonly parent: JsonLogger | undefined,
    /** The fields bound by this logger itself. */
    private readonly own: LogFields,
    /** All bound fields as JSON members without the braces; undefined when they cannot be concatenated. */
    private readonly baseText: string | undefined,
  ) {}

  debug(msg: string, fields?: LogFields): void {
    if (RANK.debug >= this.min) this.write('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    if (RANK.info >= this.min) this.write('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    if (RANK.warn >= this.min) this.write('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    if (RANK.error >= this.min) this.write('error', msg, fields);
  }

  /**
   * A logger with more bound fields. Cheap: one per request (the request id), so the merged
   * object is not built here, only the JSON text when the parent's can be extended.
   */
  child(fields: LogFields): Logger {
    return new JsonLogger(this.min, this.sink, this, fields, this.baseText === undefined ? undefined : extendText(this.baseText, this, fields));
  }

  /** Whether `key` is bound, and its bound value (the latest binding wins, as in `{...parent, ...own}`). */
  bound(key: string): { value: unknown } | undefined {
    if (Object.hasOwn(this.own, key)) return { value: this.own[key] };
    return this.parent?.bound(key);
  }

  private base(): LogFields {
    return (this.merged ??= this.parent ? { ...this.parent.base(), ...this.own } : this.own);
  }

  private write(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    const time = new Date().toISOString();
    const line = this.baseText === undefined ? undefined : this.concatenated(time, level, msg, fields);
    this.sink(line ?? JSON.stringify({ time, level, msg, ...this.base(), ...(redact(fields ?? {}) as LogFields) }));
  }

  /** The line by concatenation, or undefined when a field needs the object path. */
  private concatenated(time: string, level: LogLevel, msg: string, fields: LogFields | undefined): string | undefined {
    let line = `{"time":"${time}","level":"${level}","msg":${JSON.stringify(msg)}`;
    if (this.baseText) line += `,${this.baseText}`;
    if (fields) {
      for (const key in fields) {
        if (!Object.hasOwn(fields, key)) continue;
        const value = fields[key];
        const info = keyInfo(key);
        if (!info.plain) return undefined;
        const bound = this.bound(key);
        if (bound) {
          // A repeated key keeps its first place with the last value: the same value changes nothing.
          if ((info.secret ? '[redacted]' : value) === bound.value) continue;
          return undefined;
        }
        if (info.secret) line += `,${info.prefix}"[redacted]"`;
        else if (!isPrimitive(value)) return undefined;
        else if (value !== undefined && typeof value !== 'symbol') line += `,${info.prefix}${JSON.stringify(value)}`;
      }
    }
    return `${line}}`;
  }
}

/** The bound fields' JSON text after `child(fields)`, or undefined when only the object path can write it. */
function extendText(text: string, parent: JsonLogger | undefined, fields: LogFields): string | undefined {
  let out = text;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const value = fields[key];
    const info = keyInfo(key);
    if (!info.plain || !isPrimitive(value) || parent?.bound(key)) return undefined;
    if (value === undefined || typeof value === 'symbol') continue;
    out += `${out ? ',' : ''}${info.prefix}${JSON.stringify(value)}`;
  }
  return out;
}

export function createJsonLogger(opts: JsonLoggerOptions = {}): Logger {
  const sink = opts.sink ?? ((line: string) => console.log(line));
  const base = opts.base ?? {};
  return new JsonLogger(RANK[opts.level ?? 'info'], sink, undefined, base, extendText('', undefined, base));
}

/** Collects log entries in memory: tests assert on what was (and was not) logged. */
export function createMemoryLogger(): Logger & { entries: LogFields[] } {
  const entries: LogFields[] = [];
  const logger = createJsonLogger({ level: 'debug', sink: (line) => entries.push(JSON.parse(line) as LogFields) });
  return Object.assign(logger, { entries });
}
