/**
 * The mobile app's journey written only against the generated client: openapi-fetch over the
 * types openapi-typescript generates from /openapi.json (clients/typescript/schema.d.ts, kept
 * fresh by test/node/generated-client-files.test.ts). It compiles under the project's strict
 * tsconfig without a cast or an `any`: where the document described a response wrongly, the
 * types would not let this file compile (or, for a field typed narrower than what is sent, the
 * `expectTypeOf` checks below fail the typecheck), and the server's real answers are checked
 * at run time: the test files hand it a fetch wrapped by `checkedFetcher` (test/support/client.ts),
 * which checks every response against /openapi.json like the journeys' client. Runs on Node (test/node/generated-client.test.ts) and inside workerd
 * (test/workers/generated-client.test.ts) over the same fetch function the app serves.
 *
 * Only the setting-up is not the app's: an admin (made with the CLI's set-role) opens a zone and
 * its slots through the same client, and Stripe's side (the card authorising in PaymentSheet,
 * the webhook) comes from the stand-in, as in test/journeys/payments.ts.
 */
import createClient, { type Client } from 'openapi-fetch';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { components, operations, paths } from '../../clients/typescript/schema.js';
import type { Fetcher } from '../support/client.js';
import { uniqueEmail } from '../support/client.js';
import { uniquePrefix } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';
import { deliver, stripeIntent } from './payments.js';

type Api = Client<paths>;
type Order = components['schemas']['Order'];
type PriceBreakdown = components['schemas']['PriceBreakdown'];
type Session = components['schemas']['Session'];
/** Named by the operation's `operationId`, which stays when a path changes. */
type CreateOrderBody = operations['createOrder']['requestBody']['content']['application/json'];

const BASE_URL = 'http://laundry.test';
const HOUR = 3_600_000;

/** The success body of an openapi-fetch answer (`data`, typed from the document), after checking its status; the test fails with the problem otherwise. */
function expectBody<D>(answer: { data?: D; error?: unknown; response: Response }, status: number): D {
  expect(answer.response.status, JSON.stringify(answer.error)).toBe(status);
  const { data } = answer;
  if (data === undefined) throw new Error(`${answer.response.url} answered ${status} without a body`);
  return data;
}

/** The operations of /openapi.json with the problem codes each error response lists (`x-problem-codes`). */
const DocumentedProblems = z.object({
  paths: z.record(z.string(), z.record(z.string(), z.object({ responses: z.record(z.string(), z.object({ 'x-problem-codes': z.array(z.string()).optional() })) }))),
});

/** The codes the served document lists for `status` of `method path`. */
async function documentedCodes(fetcher: Fetcher, method: string, path: string, status: number): Promise<string[]> {
  const doc = DocumentedProblems.parse(await (await fetcher(new Request(`${BASE_URL}/openapi.json`))).json());
  return doc.paths[path]?.[method]?.responses[String(status)]?.['x-problem-codes'] ?? [];
}

/** A client for one caller; `token` is sent as the bearer credential on every request. */
function client(fetcher: Fetcher, token?: string): Api {
  return createClient<paths>({
    baseUrl: BASE_URL,
    fetch: fetcher,
    ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }),
  });
}

/** An admin opens a zone with a unique digit prefix, one pickup and one delivery window. */
async function openZone(h: Harness, fetcher: Fetcher) {
  const anonymous = client(fetcher);
  const email = uniqueEmail('admin');
  const password = 'generated client admin';
  expectBody(await anonymous.POST('/v1/auth/register', { body: { email, password } }), 201);
  await h.setRole(email, 'admin');
  const session = expectBody(await anonymous.POST('/v1/auth/login', { body: { email, password } }), 200);
  expect(session.user.role).toBe('admin');
  const admin = client(fetcher, session.accessToken);

  const prefix = uniquePrefix();
  const zone = expectBody(
    await admin.POST('/v1/admin/zones', {
      body: { name: `Zone ${prefix}`, postcodePrefixes: [prefix], timeZone: 'UTC', deliveryFee: 499, minimumOrder: 1500, freeDeliveryFrom: 5000 },
    }),
    201,
  );
  expect(zone.active).toBe(true);
  const window = async (kind: 'pickup' | 'delivery', startsInHours: number) => {
    const startsAt = new Date(Math.floor((Date.now() + startsInHours * HOUR) / HOUR) * HOUR);
    const endsAt = new Date(startsAt.getTime() + 2 * HOUR);
    return expectBody(
      await admin.POST('/v1/admin/zones/{id}/slots', {
        params: { path: { id: zone.id } },
        body: { kind, startsAt: startsAt.toISOString(), endsAt: endsAt.toISOString(), capacity: 5 },
      }),
      201,
    );
  };
  return { zone, postcode: `${prefix}1`, pickup: await window('pickup', 24), delivery: await window('delivery', 96) };
}

export function generatedClientJourney(harness: () => Harness, fetcher: () => Fetcher) {
  describe('the mobile journey over the generated client (openapi-typescript + openapi-fetch)', () => {
    it('registers, books a card order with an Idempotency-Key, pays the hold, cancels, refreshes and logs out', async () => {
      const h = harness();
      const fetch = fetcher();
      const { zone, postcode, pickup, delivery } = await openZone(h, fetch);
      const anonymous = client(fetch);

      // Account: register, then log in as the app does on a second device.
      const email = uniqueEmail('mobile');
      const password = 'generated client customer';
      const registered: Session = expectBody(await anonymous.POST('/v1/auth/register', { body: { email, password, name: 'Ada' } }), 201);
      expect(registered.user).toMatchObject({ email, role: 'customer', name: 'Ada' });
      const session = expectBody(await anonymous.POST('/v1/auth/login', { body: { email, password } }), 200);
      expect(session.tokenType).toBe('Bearer');
      expect(session.user.id).toBe(registered.user.id);
      const me = client(fetch, session.accessToken);

      // Catalog, coverage and bookable windows, as the booking screen loads them.
      const services = expectBody(await anonymous.GET('/v1/services'), 200);
      const washFold = services.data.find((s) => s.slug === 'wash-and-fold');
      if (!washFold) throw new Error('the seeded catalog has no wash-and-fold');
      const coverage = expectBody(await anonymous.GET('/v1/coverage', { params: { query: { postcode } } }), 200);
      expect(coverage.served).toBe(true);
      expect(coverage.zone?.id).toBe(zone.id);
      const from = new Date(Date.now() + HOUR).toISOString();
      const to = new Date(Date.now() + 7 * 24 * HOUR).toISOString();
      for (const slot of [pickup, delivery]) {
        const listed = expectBody(await anonymous.GET('/v1/slots', { params: { query: { postcode, kind: slot.kind, from, to } } }), 200);
        expect(listed.data.find((s) => s.id === slot.id)).toMatchObject({ kind: slot.kind, startsAt: slot.startsAt, remaining: 5 });
      }

      const address = expectBody(
        await me.POST('/v1/addresses', { body: { label: 'Home', line1: '1 Client Street', city: 'Testville', postcode } }),
        201,
      );
      expect(address.postcode).toBe(postcode);

      // The order, with an Idempotency-Key; the app retries after a lost answer with the same key.
      const key = `mobile-${crypto.randomUUID()}`;
      const body: CreateOrderBody = {
        items: [{ serviceId: washFold.id, estimatedWeightGrams: 6000 }],
        addressId: address.id,
        pickupSlotId: pickup.id,
        deliverySlotId: delivery.id,
        paymentMethod: 'card',
      };
      const placed = await me.POST('/v1/orders', { params: { header: { 'idempotency-key': key } }, body });
      const order: Order = expectBody(placed, 201);
      expect(placed.response.headers.get('idempotent-replayed')).toBeNull();
      expect(order).toMatchObject({ status: 'pending_payment', paymentMethod: 'card', zoneId: zone.id, final: null, weighedAt: null });
      // Not weighed yet: the type must admit the null the server sends (issue 14: Order.final).
      expectTypeOf(order.final).toEqualTypeOf<PriceBreakdown | null>();
      const shown = order.final?.total ?? order.estimate.total;
      expect(shown).toBe(order.estimate.total);

      const replay = await me.POST('/v1/orders', { params: { header: { 'idempotency-key': key } }, body });
      expect(expectBody(replay, 201)).toEqual(order);
      expect(replay.response.headers.get('idempotent-replayed')).toBe('true');

      const page = expectBody(await me.GET('/v1/orders'), 200);
      expect(page.data.map((o) => o.id)).toEqual([order.id]);
      const read = expectBody(await me.GET('/v1/orders/{id}', { params: { path: { id: order.id } } }), 200);
      expect(read).toEqual(order);

      // PaymentSheet: the hold is authorised in the app, Stripe tells the server, the order is confirmed.
      const sheet = expectBody(await me.POST('/v1/orders/{id}/payment-sheet', { params: { path: { id: order.id } } }), 200);
      expect(sheet).toMatchObject({ purpose: 'hold', currency: order.currency, ephemeralKey: null });
      expect(sheet.amount).toBeGreaterThan(order.estimate.total);
      await h.stripe.authorize(sheet.paymentIntentId);
      const { res: webhook } = await deliver(h, 'payment_intent.amount_capturable_updated', sheet.paymentIntentId);
      expect(webhook.status, webhook.text).toBe(200);
      const confirmed = expectBody(await me.GET('/v1/orders/{id}', { params: { path: { id: order.id } } }), 200);
      expect(confirmed.status).toBe('confirmed');
      expect(confirmed.balance.authorised).toBe(sheet.amount);

      const cancelled = expectBody(
        await me.POST('/v1/orders/{id}/cancel', { params: { path: { id: order.id } }, body: { reason: 'Plans changed' } }),
        200,
      );
      expect(cancelled).toMatchObject({ id: order.id, status: 'cancelled', balance: { due: 0, outstanding: 0 } });
      expect((await stripeIntent(h, sheet.paymentIntentId)).intent.status).toBe('canceled'); // the hold is released
      const freed = expectBody(await anonymous.GET('/v1/slots', { params: { query: { postcode, kind: 'pickup', from, to } } }), 200);
      expect(freed.data.find((s) => s.id === pickup.id)?.remaining).toBe(5);

      // Tokens: rotate, use the new access token, log out; the logged-out refresh token is refused.
      const rotated = expectBody(await anonymous.POST('/v1/auth/refresh', { body: { refreshToken: session.refreshToken } }), 200);
      expect(rotated.refreshToken).not.toBe(session.refreshToken);
      const profile = expectBody(await client(fetch, rotated.accessToken).GET('/v1/me'), 200);
      expect(profile.id).toBe(registered.user.id);
      const loggedOut = await anonymous.POST('/v1/auth/logout', { body: { refreshToken: rotated.refreshToken } });
      expect(loggedOut.response.status, JSON.stringify(loggedOut.error)).toBe(204);
      const refused = await anonymous.POST('/v1/auth/refresh', { body: { refreshToken: rotated.refreshToken } });
      expect(refused.response.status).toBe(401);
      expect(refused.error).toMatchObject({ status: 401, code: 'refresh_token_revoked' });
      expect(await documentedCodes(fetch, 'post', '/v1/auth/refresh', 401)).toContain(refused.error?.code);
      expect(refused.response.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.error?.requestId).toBe(refused.response.headers.get('x-request-id'));
    });
  });
}
