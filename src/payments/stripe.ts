import type Stripe from 'stripe';
import type { Config } from '../config.js';

/**
 * The pinned Stripe API version. Pinned rather than left to the account default so that a
 * dashboard upgrade cannot change the shape of objects and webhooks under running code; it
 * is the version stripe-node 23.1.0 was generated for, so its types match the wire.
 */
export const STRIPE_API_VERSION = '2026-10-28.endive' as const;

/**
 * Card payments: the Stripe client and the webhook's signature check. The SDK's module is loaded
 * (a dynamic `import('stripe')`) on the first call that needs it, not with the app: most requests
 * never reach Stripe, so a Worker isolate that serves only those never evaluates it, at global
 * scope or on its first request. Errors from Stripe's calls are told apart by `err.type`
 * (./stripe-errors.ts), which needs no SDK module either.
 */
export interface Payments {
  /**
   * The client, built once per process/isolate on first use. Rejects only when the SDK module
   * cannot be loaded (then the next call tries again).
   */
  client(): Promise<Stripe>;
  /**
   * A webhook's event, its `Stripe-Signature` checked against the signing secret with
   * SubtleCrypto (the same check on Workers and Node; default tolerance 300 s:
   * https://docs.stripe.com/webhooks#verify-events). Throws `StripeSignatureVerificationError`
   * on a bad or stale signature.
   */
  verifyEvent(payload: string, signature: string): Promise<Stripe.Event>;
  webhookSecret: string;
  publishableKey: string;
}

/**
 * Builds the card payments from config, or `undefined` when card payments are not configured
 * (then card endpoints answer 503 `payments_not_configured` and pay-on-delivery still works).
 * Uses the fetch HTTP client, which both runtimes have.
 */
export function createPayments(config: Config): Payments | undefined {
  if (!config.stripeSecretKey || !config.stripeWebhookSecret) return undefined;
  const local = config.stripeApiUrl ? new URL(config.stripeApiUrl) : undefined;
  const secretKey = config.stripeSecretKey;
  const webhookSecret = config.stripeWebhookSecret;
  let sdk: Promise<{ stripe: Stripe; cryptoProvider: Stripe.CryptoProvider }> | undefined;
  const load = () =>
    (sdk ??= import('stripe')
      .then(({ default: StripeSdk }) => ({
        stripe: new StripeSdk(secretKey, {
          apiVersion: STRIPE_API_VERSION,
          httpClient: StripeSdk.createFetchHttpClient(),
          // The SDK retries network failures with the same idempotency key. Beyond that, a retry is a
          // recorded attempt that looks the operation up first (src/modules/payments/attempts.ts):
          // Stripe replays a stored 500 to the same key (https://docs.stripe.com/api/idempotent_requests).
          maxNetworkRetries: 2,
          timeout: config.stripeTimeoutMs,
          ...(local
            ? { host: local.hostname, port: Number(local.port || 80), protocol: local.protocol.replace(':', '') as 'http' | 'https' }
            : {}),
        }),
        cryptoProvider: StripeSdk.createSubtleCryptoProvider(),
      }))
      .catch((err: unknown) => {
        sdk = undefined; // loading or building failed: the next call tries again
        throw err;
      }));
  return {
    client: async () => (await load()).stripe,
    async verifyEvent(payload, signature) {
      const { stripe, cryptoProvider } = await load();
      return stripe.webhooks.constructEventAsync(payload, signature, webhookSecret, undefined, cryptoProvider);
    },
    webhookSecret,
    publishableKey: config.stripePublishableKey ?? '',
  };
}
