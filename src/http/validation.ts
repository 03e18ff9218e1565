import type { Context } from 'hono';
import type { ZodError } from 'zod';
import { ApiError, type FieldError } from '../errors.js';

export function fieldErrors(error: ZodError, target: string): FieldError[] {
  return error.issues.map((issue) => ({
    field: [target, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
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
