/**
 * The one way a request schema declares text, instants and calendar dates. Every string a
 * client sends (body, query, path, header) is built here, so a value the database cannot
 * hold or would silently change is refused as 422 `validation_failed` naming the field,
 * never a 500 from PostgreSQL:
 * - NUL (U+0000): PostgreSQL `text` cannot hold it (SQLSTATE 22021);
 * - an unpaired UTF-16 surrogate (U+D800–U+DFFF alone): not encodable as UTF-8, so drivers
 *   would store U+FFFD instead of what was sent;
 * - an instant or date outside years 2000–2100: PostgreSQL and JavaScript disagree on the
 *   calendar's far ends (year 0, year 10000, ±275760), and nothing in this business needs them.
 * test/node/hostile-input.test.ts walks /openapi.json and proves it for every field.
 */
import { z } from '@hono/zod-openapi';
import { textProblem } from '../domain/text.js';

/** The first and last calendar years the API accepts in any instant or date (UTC for instants). */
export const MIN_YEAR = 2000;
export const MAX_YEAR = 2100;
const EARLIEST_MS = Date.UTC(MIN_YEAR, 0, 1);
const END_MS = Date.UTC(MAX_YEAR + 1, 0, 1);

export const TIME_RANGE_RULE = `between ${MIN_YEAR}-01-01T00:00:00Z and ${MAX_YEAR}-12-31T23:59:59.999Z`;

export { textProblem } from '../domain/text.js';

export interface TextOptions {
  /** Maximum length in UTF-16 code units (zod's `max`), after trimming. Required: no field is unbounded. */
  max: number;
  /** Minimum length after trimming; default 0. */
  min?: number;
  /** Trim surrounding whitespace first; default true. Off for secrets and opaque tokens. */
  trim?: boolean;
}

/**
 * A request string: trimmed (unless `trim: false`), free of NUL and unpaired surrogates,
 * at most `max` long. Chain `.regex()`, `.refine()`, `.optional()`… as on any zod string.
 */
export function text({ max, min = 0, trim = true }: TextOptions) {
  const base = trim ? z.string().trim() : z.string();
  // abort: a value that cannot be stored is reported as that, not as whatever else it fails.
  const safe = base.refine((v) => textProblem(v) === null, {
    error: (issue) => textProblem(issue.input as string) ?? 'invalid text',
    abort: true,
  });
  return (min > 0 ? safe.min(min) : safe).max(max);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2}))$/i;

function calendarDay(year: number, month: number, day: number): number | null {
  const ms = Date.UTC(year, month - 1, day);
  const d = new Date(ms);
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day ? ms : null;
}

/**
 * Parses an ISO 8601 date-time with an offset (`Z`, `+01:00`, `+0100`) into an instant, or
 * null when it is malformed, not on the calendar, or outside years 2000–2100 (in UTC).
 * Seconds and fractions are optional; fractions beyond milliseconds are truncated.
 */
export function parseTimestamp(value: string): Date | null {
  const m = DATE_TIME.exec(value);
  if (!m) return null;
  const day = calendarDay(Number(m[1]), Number(m[2]), Number(m[3]));
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (day === null || hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (m[9]) {
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const millis = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const ms = day + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 + millis;
  return ms >= EARLIEST_MS && ms < END_MS ? new Date(ms) : null;
}

/** Parses a calendar date YYYY-MM-DD in years 2000–2100 (2026-02-30 is refused), or null. */
export function parseDate(value: string): { year: number; month: number; day: number } | null {
  const m = DATE.exec(value);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < MIN_YEAR || year > MAX_YEAR || calendarDay(year, month, day) === null) return null;
  return { year, month, day };
}

/**
 * An instant as ISO 8601 with an offset, within years 2000–2100. The handler receives it
 * normalised to UTC with milliseconds (`2026-03-27T08:00:00.000Z`), whatever offset was sent.
 */
export function timestamp() {
  return z
    .string()
    .max(64)
    .refine((v) => parseTimestamp(v) !== null, {
      error: `must be an ISO 8601 date-time with an offset (e.g. 2026-03-27T09:00:00Z), ${TIME_RANGE_RULE}`,
      abort: true,
    })
    .overwrite((v) => parseTimestamp(v)?.toISOString() ?? v)
    .openapi({ format: 'date-time', example: '2026-03-27T09:00:00Z' });
}

/** A calendar date YYYY-MM-DD in years 2000–2100. */
export function date() {
  return z
    .string()
    .max(10)
    .refine((v) => parseDate(v) !== null, {
      error: `must be a calendar date YYYY-MM-DD in years ${MIN_YEAR}–${MAX_YEAR}`,
      abort: true,
    })
    .openapi({ format: 'date', example: '2026-12-25' });
}

/** PostgreSQL `integer` (int4) bounds: any integer a request stores must fit. */
export const INT4_MAX = 2_147_483_647;
export const INT4_MIN = -2_147_483_648;

/** The length of a UUID in its canonical text form (8-4-4-4-12 hex digits). */
const UUID_LENGTH = 36;

/** A UUID a client sends (a path `:id`, a body or query reference): 422 `must be a UUID` otherwise. */
export function uuid() {
  return z.uuid({ error: 'must be a UUID' }).max(UUID_LENGTH);
}

export interface IntegerOptions {
  /** Smallest accepted value. Required: no integer is unbounded. */
  min: number;
  /** Largest accepted value, at most INT4_MAX (every integer column is PostgreSQL `integer`). */
  max: number;
}

/**
 * A request integer within [min, max], documented as `format: int32` (every integer the API
 * stores is a PostgreSQL `integer`). The JSON body form; query strings use `queryInteger`.
 */
export function integer({ min, max }: IntegerOptions) {
  return z.number().int().openapi({ format: 'int32' }).min(min).max(max);
}

/** `integer` read from a query string (`?limit=20`): the text is converted to a number first. */
export function queryInteger({ min, max }: IntegerOptions) {
  return z.coerce.number().int().openapi({ format: 'int32' }).min(min).max(max);
}

/*
 * Response-side builders: what the API answers, documented with the format a client generator
 * maps to a type (a `DateTime`, a `Date`…). Every response schema builds instants, dates, UUIDs,
 * emails and integers with these, so no response field is a bare string or number where a
 * format applies (test/node/openapi-document-fields.test.ts checks the names: `…At` is an
 * instant, `…date`/`…Date` a date).
 */

/** An instant as the API answers it: ISO 8601 in UTC with milliseconds (`2026-03-27T09:00:00.000Z`). */
export function instantOut() {
  return z.iso.datetime().openapi({ example: '2026-03-27T09:00:00.000Z' });
}

/** A calendar date as the API answers it: `YYYY-MM-DD`. */
export function dateOut() {
  return z.iso.date().openapi({ example: '2026-12-25' });
}

/** A UUID as the API answers it (ids of rows, always lower-case canonical form). */
export function uuidOut() {
  return z.uuid();
}

/** An email address as the API answers it (stored lower-case, as registered). */
export function emailOut() {
  return z.email();
}

/**
 * An integer as the API answers it: `format: int32`, since every integer it stores or derives
 * is a PostgreSQL `integer` (amounts in minor units, counts, grams, minutes).
 */
export function integerOut() {
  return z.number().int().openapi({ format: 'int32' });
}

/** A resource id in the path (`/v1/…/{id}`): a UUID, 422 `validation_failed` otherwise. */
const UUID_EXAMPLE = '0b7e4a52-3f7d-4c55-9a51-3c1f2b0f7a10';

export const IdParam = z.object({
  id: uuid().openapi({ param: { name: 'id', in: 'path' }, example: UUID_EXAMPLE }),
});
