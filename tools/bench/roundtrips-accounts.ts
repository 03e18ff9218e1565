/**
 * The round-trip table's steps for account recovery, Sign in with Apple and Google, tips,
 * recurring pickups and the account's data (export, staff view, erasure): each called once on
 * its success path and counted like the rest of tools/bench/roundtrips.ts. Budgets are the
 * counts docs/runbook.md ("Round trips per request") and the round-trip tests state.
 */
import { createHash } from 'node:crypto';
import { addDays } from '../../src/domain/recurrence.js';
import { tokenFrom } from '../../test/support/recovery-tokens.js';
import { startJwksStandIn, type JwksStandIn } from '../../test/support/stand-ins/jwks.js';
import { expectStatus, sqlRows, type Call, type Reply } from './db.js';

/** Counts one call (see roundTripSection's `measure`) and returns its body. */
export type Measure = (endpoint: string, status: number, send: () => Promise<Reply>, variant?: string, budget?: number) => Promise<any>;

export interface StepContext {
  call: Call;
  measure: Measure;
  databaseUrl: string;
  jwtSecret: string;
  password: string;
}

export interface Actor {
  userId: string;
  token: string;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const keyed = (token: string) => ({ ...bearer(token), 'idempotency-key': crypto.randomUUID() });
const uniqueEmail = (tag: string) => `rt-${tag}-${crypto.randomUUID().slice(0, 8)}@bench.test`;
/** A client address, as in production (the per-address throttles count it in their statement). */
const fromClient = { 'x-forwarded-for': '203.0.113.51' };

/** Reset, email verification and email change (test/node/recovery-round-trips.test.ts). */
export async function recoverySteps(s: StepContext): Promise<void> {
  const { call, measure } = s;
  const email = uniqueEmail('recovery');
  const reg = expectStatus(await call('POST', '/v1/auth/register', { email, password: s.password }, fromClient), 201, 'register (recovery)');
  // Counted with the resend throttle in the same statement as the email it writes (1).
  await measure('POST /v1/me/email-verification', 202, () => call('POST', '/v1/me/email-verification', undefined, bearer(reg.accessToken)));
  await measure('POST /v1/auth/password-reset', 202, () => call('POST', '/v1/auth/password-reset', { email }, fromClient));
  // The outbox holds the token sealed with the JWT secret; open it as the dispatcher does.
  const t = { sql: <T>(q: string, p?: unknown[]) => sqlRows<T>(s.databaseUrl, q, p), jwtSecret: s.jwtSecret };
  const reset = await tokenFrom(t, email, 'password_reset');
  const newPassword = `${s.password} reset`;
  // Read the token (and throttle), hash, then the new hash with the sessions ended (2).
  await measure('POST /v1/auth/password-reset/confirm', 200, () => call('POST', '/v1/auth/password-reset/confirm', { token: reset, newPassword }, fromClient), undefined, 2);
  const login = expectStatus(await call('POST', '/v1/auth/login', { email, password: newPassword }), 200, 'login after reset');
  const newEmail = uniqueEmail('moved');
  // Count the attempt and read the hash; then the pending change and its email (2).
  await measure('POST /v1/me/email', 202, () => call('POST', '/v1/me/email', { newEmail, password: newPassword }, bearer(login.accessToken)), undefined, 2);
  const code = await tokenFrom(t, newEmail, 'email_verification');
  await measure('POST /v1/auth/verify-email', 200, () => call('POST', '/v1/auth/verify-email', { token: code }, fromClient));
}

export const APPLE_AUDIENCE = 'com.example.laundry.bench';
export const GOOGLE_AUDIENCE = '1234-bench.apps.googleusercontent.com';

export interface IdentityProviders {
  apple: JwksStandIn;
  google: JwksStandIn;
  /** The settings that point the app at them. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Key-set stand-ins that sign ID tokens (test/support/stand-ins/jwks.ts), as test/node/oauth.test.ts uses them. */
export async function startIdentityProviders(): Promise<IdentityProviders> {
  const apple = await startJwksStandIn('apple');
  const google = await startJwksStandIn('google');
  return {
    apple,
    google,
    env: { APPLE_CLIENT_IDS: APPLE_AUDIENCE, GOOGLE_CLIENT_IDS: GOOGLE_AUDIENCE, APPLE_JWKS_URL: apple.url, GOOGLE_JWKS_URL: google.url },
    close: async () => {
      await apple.close();
      await google.close();
    },
  };
}

/** A first sign-in with each provider creates the account: one statement (test/workers/oauth.test.ts). The key-set fetch is no database round trip. */
export async function oauthSteps(s: StepContext, idps: IdentityProviders): Promise<void> {
  const { call, measure } = s;
  const nonce = `nonce-${crypto.randomUUID()}`;
  const appleToken = await idps.apple.sign({
    sub: `001.${crypto.randomUUID()}`, aud: APPLE_AUDIENCE, nonce: createHash('sha256').update(nonce).digest('hex'), nonce_supported: true,
    email: uniqueEmail('apple'), email_verified: 'true',
  });
  await measure('POST /v1/auth/oauth/apple', 201, () => call('POST', '/v1/auth/oauth/apple', { idToken: appleToken, nonce, name: 'Round Trip' }), 'new account');
  const googleToken = await idps.google.sign({ sub: crypto.randomUUID(), aud: GOOGLE_AUDIENCE, azp: GOOGLE_AUDIENCE, nonce, email: uniqueEmail('google'), email_verified: true });
  await measure('POST /v1/auth/oauth/google', 201, () => call('POST', '/v1/auth/oauth/google', { idToken: googleToken, nonce }), 'new account');
}

export interface TipOrders {
  /** A pay-on-delivery order out for delivery, paid in cash. */
  cash: string;
  /** A card order weighed and captured, still processing. */
  card: string;
}

/** Card and cash tips on delivered orders, and the driver's list (docs/runbook.md: 3, 2, 1). */
export async function tipSteps(s: StepContext, who: { customer: Actor; staff: Actor }, orders: TipOrders): Promise<void> {
  const { call, measure } = s;
  const st = bearer(who.staff.token);
  const move = async (id: string, to: string) => expectStatus(await call('POST', `/v1/staff/orders/${id}/transitions`, { to }, st), 200, `${to} (tips)`);
  await move(orders.cash, 'delivered');
  for (const to of ['ready', 'out_for_delivery', 'delivered']) await move(orders.card, to);
  // A read, the claim, Stripe (the saved card, one off-session PaymentIntent), the outcome (3).
  await measure('POST /v1/orders/{id}/tip', 201, () => call('POST', `/v1/orders/${orders.card}/tip`, { amount: 200 }, keyed(who.customer.token)), 'card', 3);
  await measure('POST /v1/staff/orders/{id}/tip', 201, () => call('POST', `/v1/staff/orders/${orders.cash}/tip`, { amount: 200 }, keyed(who.staff.token)), 'cash', 2);
  await measure('GET /v1/staff/tips', 200, () => call('GET', '/v1/staff/tips', undefined, st));
}

/** A weekly on-delivery schedule in the bench zone (UTC): create, list, pause, skip, delete. */
export async function recurringSteps(s: StepContext, who: Actor, where: { zoneId: string; addressId: string; serviceId: string; anchor: string }): Promise<void> {
  const { call, measure } = s;
  const me = bearer(who.token);
  // The schedule's windows must be the zone's: a pickup at 18:00 on the anchor day, a delivery at 18:00 four days later.
  for (const [kind, day] of [['pickup', where.anchor], ['delivery', addDays(where.anchor, 4)]] as const) {
    await sqlRows(s.databaseUrl, `INSERT INTO slots (zone_id, kind, starts_at, ends_at, capacity) VALUES ($1, $2, $3, $4, 10)`, [
      where.zoneId, kind, `${day}T18:00:00Z`, `${day}T20:00:00Z`,
    ]);
  }
  const body = {
    cadence: 'weekly', anchorDate: where.anchor, pickupStart: '18:00', deliveryDaysAfter: 4, deliveryStart: '18:00',
    addressId: where.addressId, items: [{ serviceId: where.serviceId, estimatedWeightGrams: 6000 }], paymentMethod: 'on_delivery',
  };
  const created = await measure('POST /v1/me/recurring-pickups', 201, () => call('POST', '/v1/me/recurring-pickups', body, me));
  const path = `/v1/me/recurring-pickups/${created.id}`;
  await measure('GET /v1/me/recurring-pickups', 200, () => call('GET', '/v1/me/recurring-pickups', undefined, me));
  // Read the schedule, then one statement (2).
  await measure('PATCH /v1/me/recurring-pickups/{id}', 200, () => call('PATCH', path, { status: 'paused' }, me), undefined, 2);
  await measure('POST /v1/me/recurring-pickups/{id}/skip', 200, () => call('POST', `${path}/skip`, { date: addDays(where.anchor, 7) }, me), undefined, 2);
  await measure('DELETE /v1/me/recurring-pickups/{id}', 204, () => call('DELETE', path, undefined, me));
}

/** The account's data: export, the staff view, erasure by the user and by an admin (test/node/account-round-trips.test.ts). */
export async function accountDataSteps(s: StepContext, who: { admin: Actor; staff: Actor }): Promise<void> {
  const { call, measure } = s;
  const fresh = async (tag: string) => expectStatus(await call('POST', '/v1/auth/register', { email: uniqueEmail(tag), password: s.password }), 201, `register (${tag})`);
  const leaving = await fresh('erase-self');
  await measure('GET /v1/me/export', 200, () => call('GET', '/v1/me/export', undefined, bearer(leaving.accessToken)));
  await measure('GET /v1/staff/users/{id}', 200, () => call('GET', `/v1/staff/users/${leaving.user.id}`, undefined, bearer(who.staff.token)));
  // The account, identities, blockers and attempt counter, then (after the password) one erasing statement (2).
  await measure('DELETE /v1/me', 204, () => call('DELETE', '/v1/me', { password: s.password }, bearer(leaving.accessToken)), undefined, 2);
  const erased = await fresh('erase-admin');
  await measure('DELETE /v1/admin/users/{id}', 204, () => call('DELETE', `/v1/admin/users/${erased.user.id}`, undefined, bearer(who.admin.token)), undefined, 2);
}
