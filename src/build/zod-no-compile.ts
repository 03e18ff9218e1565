/**
 * Bundled in place of zod's `core/compile.js` by wrangler.toml's `[alias]` (Worker builds only),
 * as src/build/zod-no-locales.ts is for the locales. `z.compile` is zod's opt-in fast path, which
 * generates parsers with `new Function`: workerd forbids that (no eval), and the app never calls
 * it; but `z` escapes as a namespace object (@hono/zod-openapi extends it), so the bundler kept
 * its ~29 KiB (minified). Schemas parse with zod's runtime parser either way.
 */
export const INVALID = Symbol.for('zod.compile.invalid');

const leftOut = (what: string) => new Error(`zod's ${what} is left out of the Worker build (src/build/zod-no-compile.ts)`);

export class ZodCompileAsyncError extends Error {}
export class ZodCompileUnsupportedError extends Error {}
export function compile(): never {
  throw leftOut('z.compile');
}
export function withParser(): never {
  throw leftOut('z.withParser');
}
export function compileFn(): never {
  throw leftOut('compileFn');
}
