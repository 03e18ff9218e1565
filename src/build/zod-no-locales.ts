/**
 * Bundled in place of zod's `locales/index.js` by wrangler.toml's `[alias]` (Worker builds
 * only). zod's namespace re-exports every locale (about 40 languages, ~360 KiB unminified),
 * and `z` escapes as a namespace object, so the bundler cannot drop them. The API answers in
 * its own words (problem+json details), and English, which zod registers by default, is
 * imported by zod separately (`locales/en.js`) and stays. `z.locales` is empty in the Worker.
 */
export {};
