import Stripe from 'stripe';
import type { Config } from '../config.js';

/**
 * The pinned Stripe API version. Pinned rather than left to the account default so that a
 * dashboard upgrade cannot change the shape of objects and webhooks under running code; it
 * is the version stripe-node 23.1.0 was generated for, so its types match the wire.
 */
export const STRIPE_API_VERSION = '2026-10-28.endive' as const;

export interface Payments {
  stripe: Stripe;
  webhookSecret: string;
  publishableKey: string;
  /** SubtleCrypto: the same signature check on Workers and Node. */
  cryptoProvider: Stripe.CryptoProvider;
}

/**
 * Builds the Stripe client from config, or `undefined` when card payments are not configured
 * (then card endpoints answer 503 `payments_not_configured` and pay-on-delivery still works).
 * Uses the fetch HTTP client, which both runtimes have.
 */
export function createPayments(config: Config): Payments | undefined {
  if (!config.stripeSecretKey || !config.stripeWebhookSecret) return undefined;
  const local = config.stripeApiUrl ? new URL(config.stripeApiUrl) : undefined;
  const secretKey = config.stripeSecretKey;
  const build = () =>
    new Stripe(secretKey, {
      apiVersion: STRIPE_API_VERSION,
      httpClient: Stripe.createFetchHttpClient(),
      // The SDK retries network failures with the same idempotency key. Beyond that, a retry is a
      // recorded attempt that looks the operation up first (src/modules/payments/attempts.ts):
      // Stripe replays a stored 500 to the same key (https://docs.stripe.com/api/idempotent_requests).
      maxNetworkRetries: 2,
      timeout: config.stripeTimeoutMs,
      ...(local
        ? { host: local.hostname, port: Number(local.port || 80), protocol: local.protocol.replace(':', '') as 'http' | 'https' }
        : {}),
    });
  let stripe: Stripe | undefined;
  return {
    // Built on first use, not with the app: most requests never reach Stripe, and the client sets
    // up every API resource it has (~3 ms on a fresh Worker isolate's first request otherwise).
    get stripe() {
      return (stripe ??= build());
    },
    webhookSecret: config.stripeWebhookSecret,
    publishableKey: config.stripePublishableKey ?? '',
    cryptoProvider: Stripe.createSubtleCryptoProvider(),
  };
}
