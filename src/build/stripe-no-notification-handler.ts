/**
 * Bundled in place of stripe-node's `StripeEventNotificationHandler.js` by wrangler.toml's
 * `[alias]` (Worker builds only). That module backs `stripe.notificationHandler()` and
 * `stripe.notificationHandlerWithoutVerification()`, the dispatchers for Stripe's v2 "thin" event
 * notifications (~13 KiB minified): stripe.core imports it, so the bundler kept it. The app
 * receives v1 webhook events through `stripe.webhooks.constructEventAsync`
 * (src/modules/payments/webhook.ts) and never calls either; in the Worker they throw.
 * test/unit/stripe-resources.test.ts fails if src/ starts calling them.
 */
const leftOut = () => new Error("stripe's event notification handler is left out of the Worker build (src/build/stripe-no-notification-handler.ts)");

export class StripeEventNotificationHandler {
  constructor() {
    throw leftOut();
  }
  static withoutVerification(): never {
    throw leftOut();
  }
}
