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
  const stripe = new Stripe(config.stripeSecretKey, {
    apiVersion: STRIPE_API_VERSION,
    httpClient: Stripe.createFetchHttpClient(),
    // Our own idempotency keys make retries safe; the SDK retries network failures with them.
    maxNetworkRetries: 2,
    timeout: config.stripeTimeoutMs,
    ...(local
      ? { host: local.hostname, port: Number(local.port || 80), protocol: local.protocol.replace(':', '') as 'http' | 'https' }
      : {}),
  });
  return {
    stripe,
    webhookSecret: config.stripeWebhookSecret,
    publishableKey: config.stripePublishableKey ?? '',
    cryptoProvider: Stripe.createSubtleCryptoProvider(),
  };
}
