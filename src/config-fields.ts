import { z } from 'zod';

/*
 * The parsers the environment's variables are read with (src/config-env.ts, and the settings
 * modules that read their own part: src/notifications/config.ts, src/platform/node/config.ts):
 * every variable arrives as a string or not at all, on Workers (bindings) and Node (process.env).
 */

const PLACEHOLDER_PATTERNS = [
  /^your[_-]/i,
  /^change[_-]?me/i,
  /^replace[_-]?me/i,
  /^placeholder/i,
  /^xxx+$/i,
  /^dev-only-/i,
  /^sk_(test|live)_your/i,
  /^whsec_your/i,
  /^(secret|password|changeme|todo|example)$/i,
];

/** Whether a secret is an example value (`your_…`, `changeme`, `sk_test_your…`): refused in production. */
export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER_PATTERNS.some((p) => p.test(value.trim()));
}

/** A string variable: trimmed; unset or blank → undefined. */
export const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

/** A number from a string variable: unset or blank → `def`; otherwise `Number(v)`, which must pass `ok`. */
export const numberFromString = <D extends number | undefined>(def: D, ok: (n: number) => boolean, message: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx): number | D => {
      if (v === undefined || v === '') return def;
      const n = Number(v);
      if (!ok(n)) {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return n;
    });

/** An integer variable: unset or blank → `def`; otherwise an integer in [min, max]. */
export const intFromString = (def: number, min: number, max: number) =>
  numberFromString(def, (n) => Number.isInteger(n) && n >= min && n <= max, `must be an integer between ${min} and ${max}`);

/** A URL variable: trimmed; unset or blank → undefined; otherwise it must parse as a URL. */
export const optionalUrl = optionalString.pipe(z.url({ message: 'must be a URL' }).optional());
