/**
 * Bundled in place of zod's `classic/from-json-schema.js` by wrangler.toml's `[alias]` (Worker
 * builds only), as src/build/zod-no-locales.ts is for the locales. `z` escapes as a namespace
 * object (@hono/zod-openapi extends it), so the bundler keeps every export, this converter from
 * JSON Schema to zod included (~12 KiB minified, ~3 KiB gzip). Nothing in the app builds schemas
 * from JSON Schema; in the Worker `z.fromJSONSchema` throws instead.
 */
export function fromJSONSchema(): never {
  throw new Error('z.fromJSONSchema is left out of the Worker build (src/build/zod-no-from-json-schema.ts)');
}
