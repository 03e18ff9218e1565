import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';

/**
 * src/payments/stripe.ts loads the Stripe SDK on first use (a dynamic `import('stripe')`), not with
 * the app. A load that fails must fail only the call that needed it, with the loader's own error,
 * and the next call must try again rather than keep a rejected promise for the life of the isolate.
 */
const config = loadConfig({
  APP_ENV: 'test',
  JWT_SECRET: 'x'.repeat(40),
  STRIPE_SECRET_KEY: 'sk_test_lazy_load_0000000000000000',
  STRIPE_WEBHOOK_SECRET: 'whsec_lazy_load_0000000000000000',
});

afterEach(() => {
  vi.doUnmock('stripe');
  vi.resetModules();
});

describe('the Stripe SDK, loaded on first use', () => {
  it('a failed load rejects that call only, and the next call loads it', async () => {
    let loads = 0;
    vi.doMock('stripe', async () => {
      loads++;
      if (loads === 1) throw new Error('stripe module failed to load');
      return vi.importActual<typeof import('stripe')>('stripe');
    });
    vi.resetModules();
    const { createPayments } = await import('../../src/payments/stripe.js');
    const payments = createPayments(config)!;
    expect(loads).toBe(0); // building the payments loads nothing

    // vitest wraps a mock factory's error; the loader's own is its cause.
    const failure = await payments.client().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String((failure as Error | undefined)?.cause ?? failure)).toMatch(/stripe module failed to load/);
    const client = await payments.client();
    expect(loads).toBe(2);
    expect(typeof client.paymentIntents.create).toBe('function');
    // Built once: later calls share the client, and the webhook check needs no second load.
    expect(await payments.client()).toBe(client);
    await expect(payments.verifyEvent('{}', 't=1,v1=00')).rejects.toThrow(/signature|timestamp/i);
    expect(loads).toBe(2);
  });
});
