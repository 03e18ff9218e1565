/**
 * What text can be stored: the one rule every string field and every outside claim (an ID token's
 * name) passes (src/http/schemas.ts builds the request schemas on it). Free of zod on purpose:
 * the Worker's global scope (src/auth/id-tokens.ts) imports it, and must not load the OpenAPI layer
 * (test/unit/worker-global-scope.test.ts).
 */
// In a `u` regex a well-formed surrogate pair is one code point outside this range, so only a
// lone half matches.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Why a string cannot be stored as sent, or null when it can. */
export function textProblem(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  if (LONE_SURROGATE.test(value)) return 'must not contain an unpaired UTF-16 surrogate';
  return null;
}
