import type { Context } from 'hono';
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
