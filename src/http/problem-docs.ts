/**
 * The problem+json (RFC 9457) answers as the OpenAPI document describes them: the `Problem`
 * schema, each status's meaning and the `responses` a route spreads in (`problems(...codes)`).
 * Apart from src/errors.ts, which every runtime path imports, so that only code that builds routes
 * loads @hono/zod-openapi: a Worker isolate that runs the cron or the queue never evaluates it.
 */
import { z } from '@hono/zod-openapi';
import { ERROR_STATUS, PROBLEM_CONTENT_TYPE, type ErrorCode } from '../errors.js';

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ format: 'uri', example: 'urn:laundry:problem:validation_failed' }),
    title: z.string().openapi({ example: 'Request validation failed' }),
    status: z.number().int().openapi({ format: 'int32', example: 422 }),
    detail: z.string().openapi({ example: 'body.email: Invalid email address' }),
    code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]).openapi({
      description: 'Stable machine-readable error code.',
    }),
    requestId: z.string().openapi({ example: 'req_4b1e0c9f6a2d4c83' }),
    instance: z.string().optional().openapi({ format: 'uri-reference', description: 'The request path.' }),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: 'Present on validation errors: one entry per failing field.' }),
    details: z.record(z.string(), z.unknown()).optional().openapi({ description: 'Context for business-rule errors.' }),
  })
  .openapi('Problem');

/**
 * The codes whose problem always carries `Retry-After` (RFC 9110 §10.2.3, integer seconds):
 * the answer to "when may I try again" for a throttle, a saturated server, a database outage and
 * a payment already under way. Documented on each response that lists one of them.
 */
export const RETRY_AFTER_CODES: readonly ErrorCode[] = ['too_many_attempts', 'busy', 'database_unavailable', 'payment_in_progress', 'service_unavailable', 'provider_not_configured'];

/** What a status means, whatever the code; the response's description adds its codes. */
const STATUS_MEANING: Record<number, string> = {
  400: 'The request cannot be read as sent (a header or signature the operation needs, or a body that is not JSON).',
  401: 'Missing, invalid or expired credentials.',
  403: 'The caller lacks the required role (or lost it, or was disabled, since the token was issued).',
  402: 'The saved card was declined, or its bank asks the customer to authenticate: nothing was charged.',
  404: 'No such resource (or it belongs to another user).',
  409: 'Conflicts with the current state.',
  410: 'What the request refers to is gone for good (e.g. a one-time link already used or expired).',
  413: 'The request body is larger than the server accepts.',
  415: 'Content-Type must be application/json.',
  422: 'Validation failed (`errors` lists the fields) or a business rule was broken (see `code`).',
  429: 'Too many attempts: retry after the `Retry-After` header’s seconds.',
  500: 'A fault on our side; `requestId` helps us find it.',
  502: 'The payment provider did not complete the request; safe to retry.',
  503: 'A dependency is unavailable or the server is saturated: retry after the `Retry-After` header’s seconds. After a write, retry with the same `Idempotency-Key`: the write either committed whole or not at all.',
};

/** One documented error response: its problem codes, readable in the description and in `x-problem-codes`. */
export interface ProblemResponse {
  description: string;
  content: Record<typeof PROBLEM_CONTENT_TYPE, { schema: typeof ProblemSchema }>;
  /** Vendor extension: every `code` a problem with this status may carry on this operation. */
  'x-problem-codes': ErrorCode[];
}

/** The description of an error response with these codes (all of one status). */
export function problemDescription(status: number, codes: readonly ErrorCode[]): string {
  const meaning = STATUS_MEANING[status] ?? 'Error.';
  return `${meaning} Codes: ${codes.map((c) => `\`${c}\``).join(', ')}.`;
}

/**
 * The error responses for these problem codes, grouped by their status (ERROR_STATUS): spread
 * into a route's `responses`. List only what the operation itself can answer (its handler and the
 * modules it calls); the codes every operation of a kind can answer (a JSON body, parameters,
 * a bearer token, a role, the database, the body limit) are added to the served document in
 * one place, src/http/openapi-document.ts.
 */
export function problems(...codes: ErrorCode[]): Record<number, ProblemResponse> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const list = byStatus.get(ERROR_STATUS[code]) ?? [];
    if (!list.includes(code)) list.push(code);
    byStatus.set(ERROR_STATUS[code], list);
  }
  const out: Record<number, ProblemResponse> = {};
  for (const [status, list] of byStatus) {
    out[status] = {
      description: problemDescription(status, list),
      content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
      'x-problem-codes': list,
    };
  }
  return out;
}
