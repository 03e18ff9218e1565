import type { Context, TypedResponse } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { JSONParsed } from 'hono/utils/types';
import type { ZodError } from 'zod';
import { ApiError, type FieldError } from '../errors.js';

/** One entry per field: the first issue is the one worth fixing (later ones may follow from it). */
export function fieldErrors(error: ZodError, target: string): FieldError[] {
  const byField = new Map<string, string>();
  for (const issue of error.issues) {
    const field = [target, ...issue.path.map(String)].join('.');
    if (!byField.has(field)) byField.set(field, issue.message);
  }
  return [...byField].map(([field, message]) => ({ field, message }));
}

type HookResult = { success: true } | { success: false; error: ZodError; target: string };

/** zod-openapi's defaultHook: every request-validation failure becomes one 422 problem. */
export function validationHook(result: HookResult, _c: Context): void {
  if (result.success) return;
  const target = result.target === 'json' ? 'body' : result.target;
  const errors = fieldErrors(result.error, target);
  throw new ApiError(
    'validation_failed',
    errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    errors,
  );
}

/** A required JSON request body for a route definition. */
export function jsonBody<T>(schema: T, description?: string) {
  return {
    required: true,
    ...(description ? { description } : {}),
    content: { 'application/json': { schema } },
  };
}

/** A JSON response for a route definition. */
export function jsonResponse<T>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

declare const serialises: unique symbol;
/** JSON text that `toJsonText` made from a `T`: a string that keeps the type of the value it holds. */
export type JsonText<T> = string & { readonly [serialises]: T };

/** `JSON.stringify(value)`, typed as the text of a `T` (for responses stored as text, e.g. a cache). */
export function toJsonText<T>(value: T): JsonText<T> {
  return JSON.stringify(value) as JsonText<T>;
}

/**
 * Answers with JSON text as it was stored (nothing parsed or serialised again), typed as the value
 * it serialises: a route handler returning it is checked against the route's schema exactly like
 * `c.json(value, status)`.
 */
export function jsonText<T, S extends ContentfulStatusCode>(
  c: Context,
  text: JsonText<T>,
  status: S,
): Response & TypedResponse<JSONParsed<T>, S, 'json'> {
  // Hono's typed responses are plain Responses at runtime (as c.json's type says); the brand carries what the text holds.
  return c.body(text, status, { 'Content-Type': 'application/json' }) as unknown as Response & TypedResponse<JSONParsed<T>, S, 'json'>;
}
