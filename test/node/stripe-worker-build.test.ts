/**
 * The Worker build's thinned Stripe SDK (wrangler.toml's generated `[alias]` section,
 * src/build/stripe-unused-resources.ts) in workerd: wrangler builds test/support/stripe-worker-fixture.ts
 * with wrangler.toml, as it builds the Worker (the Vitest Workers pool does not apply `[alias]`,
 * so the journeys in test/workers run the full SDK), and the fixture calls every resource method
 * the app calls against the Stripe stand-in. Proves: each resource the generator keeps is real in
 * the build and answers; every other `stripe.<resource>` is the no-op stand-in (no methods), so the
 * aliases did apply; and the fixture covers exactly the kept resources.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { unstable_startWorker } from 'wrangler';
import { startStripeStandIn, type StripeStandIn } from '../../tools/stripe-stand-in/index.js';
import { plan } from '../../tools/worker-bundle/stripe-resources.js';
import { stripeEnv } from '../support/stripe.js';

type Worker = Awaited<ReturnType<typeof unstable_startWorker>>;
let stripe: StripeStandIn | undefined;
let worker: Worker | undefined;

beforeAll(async () => {
  stripe = await startStripeStandIn();
  const vars = { ...stripeEnv(stripe.url), STRIPE_TIMEOUT_MS: '10000' };
  worker = await unstable_startWorker({
    config: resolve('wrangler.toml'),
    entrypoint: resolve('test/support/stripe-worker-fixture.ts'),
    bindings: Object.fromEntries(Object.entries(vars).map(([k, value]) => [k, { type: 'plain_text' as const, value }])),
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, watch: false, persist: false, logLevel: 'warn' },
  });
  await worker.ready;
}, 180_000);

afterAll(async () => {
  await worker?.dispose();
  await stripe?.close();
});

it("the Worker build's Stripe client calls every resource the app uses; the rest are left out", async () => {
  const res = await fetch(String(await worker!.url));
  const body = (await res.json()) as { called: string[]; eventId: string; leftOut: Record<string, number>; notificationHandler: string; error?: string };
  expect(body.error).toBeUndefined();
  expect(res.status).toBe(200);
  const { kept, leftOut } = plan();
  expect(body.called).toEqual(kept.map((r) => r.property).sort());
  expect(body.eventId).toMatch(/^evt_/);
  // Every resource the generator leaves out is a method-less LeftOut in the build.
  for (const r of leftOut) expect(body.leftOut[r.property], r.property).toBe(0);
  expect(Object.keys(body.leftOut).length).toBeGreaterThanOrEqual(leftOut.length);
  // The v2 event notification dispatcher is swapped too (src/build/stripe-no-notification-handler.ts).
  expect(body.notificationHandler).toMatch(/left out of the Worker build/);
}, 120_000);
