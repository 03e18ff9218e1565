/**
 * Bundled in place of stripe-node's `resources.js` by wrangler.toml's `[alias]` (Worker builds
 * only). That module is the static `Stripe.resources` namespace: it imports every resource class
 * (about 270 files) and builds the nested namespaces, and `Stripe.resources = resources` keeps all of
 * it in the bundle. The app never reads `Stripe.resources` (instances get their resources from
 * stripe.core's own imports, which src/build/stripe-unused-resources.ts thins); stripe.core only
 * needs `OAuthResource` from it (`stripe.oauth`), re-exported here. In the Worker
 * `Stripe.resources` holds only that. tools/worker-bundle/stripe-resources.ts writes the alias.
 */
// The package's `exports` map does not expose esm/resources/*; the alias is resolved by esbuild,
// which follows this relative path as it is.
export { OAuthResource } from '../../node_modules/stripe/esm/resources/OAuth.js';
