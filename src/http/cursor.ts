/**
 * Page cursors for every keyset-paged list: opaque to clients, base64url of `|`-joined
 * fields. Decoding is strict: a cursor that is not exactly what this API issues (canonical
 * base64url, the right number of fields, each valid for its schema) is 422
 * `validation_failed` on `query.cursor`, so a tampered cursor never reaches SQL.
 */
import { z } from '@hono/zod-openapi';
import { ApiError } from '../errors.js';
import { parseTimestamp, text } from './schemas.js';

/** Longest cursor accepted in a query string (characters); ours are under 100. */
export const MAX_CURSOR_LENGTH = 300;

/** The `cursor` query parameter of a paged list. */
export function cursorParam() {
  return text({ min: 1, max: MAX_CURSOR_LENGTH, trim: false }).openapi({
    description: 'The previous page’s `nextCursor`, as is. Anything else is 422 `validation_failed` on `query.cursor`.',
  });
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

const toBase64Url = (s: string) => btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** Fields are ASCII (timestamps, UUIDs, enum values) and never contain `|`. */
export function encodeCursor(fields: readonly string[]): string {
  return toBase64Url(fields.join('|'));
}

/**
 * An instant as carried in a cursor: ISO 8601 UTC with up to microseconds (the database's
 * precision, so no row is skipped or repeated between pages), within the API's time range.
 */
export const CursorInstant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/)
  .refine((v) => parseTimestamp(v) !== null);

export const CursorUuid = z.uuid();

function invalidCursor(message = 'is not a cursor this API issued'): ApiError {
  return new ApiError('validation_failed', `query.cursor: ${message}`, [{ field: 'query.cursor', message }]);
}

/**
 * Decodes `cursor` into the fields `shape` describes, or throws 422 on `query.cursor`.
 * `shape` is a zod tuple of the fields in order, e.g. `z.tuple([CursorInstant, CursorUuid])`.
 */
export function decodeCursor<T extends z.ZodTuple>(cursor: string, shape: T): z.output<T> {
  if (cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) throw invalidCursor();
  let raw: string;
  try {
    raw = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    throw invalidCursor();
  }
  // Only the one spelling we issue: no padding, no trailing bits, nothing appended.
  if (toBase64Url(raw) !== cursor) throw invalidCursor();
  const parsed = shape.safeParse(raw.split('|'));
  if (!parsed.success) throw invalidCursor();
  return parsed.data;
}

export { invalidCursor };
