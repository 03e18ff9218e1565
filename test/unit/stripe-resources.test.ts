/**
 * tools/worker-bundle/stripe-resources.ts decides which stripe-node resources the Worker build
 * keeps (the ones src/ reads off a `Stripe` instance, found with the TypeScript checker) and
 * writes the stand-in module and wrangler.toml's generated aliases. This fails when either is
 * stale: a new `stripe.<resource>` call in src/, or a stripe upgrade that moved its resources
 * (rerun `npx tsx tools/worker-bundle/stripe-resources.ts`). test/node/stripe-worker-build.test.ts
 * runs the built client.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STUB_FILE, plan, renderAliases, renderStub, stripePropertiesUsed, stripeResourceImports, withAliases } from '../../tools/worker-bundle/stripe-resources.js';

describe('Worker build: stripe-node resources left out', () => {
  it('src/build/stripe-unused-resources.ts and the wrangler.toml aliases match what src/ calls', () => {
    const used = stripePropertiesUsed();
    // The checker sees the app's calls (src/payments, src/modules/payments, src/account/erasure-tasks.ts).
    expect(used).toEqual(expect.arrayContaining(['paymentIntents', 'refunds', 'customers', 'webhooks']));
    // src/build/stripe-no-notification-handler.ts (hand-written alias) makes these throw in the Worker.
    expect(used).not.toContain('notificationHandler');
    expect(used).not.toContain('notificationHandlerWithoutVerification');
    const { kept, leftOut } = plan(stripeResourceImports(), used);
    expect(kept.map((r) => r.property)).toEqual(expect.arrayContaining(['paymentIntents', 'refunds', 'customers']));
    for (const r of kept) expect(leftOut.map((l) => l.specifier)).not.toContain(r.specifier);
    expect(readFileSync(STUB_FILE, 'utf8')).toBe(renderStub(leftOut));
    const toml = readFileSync('wrangler.toml', 'utf8');
    expect(toml).toBe(withAliases(toml, renderAliases(leftOut)));
  }, 180_000);

  it('reads every resource stripe.core makes from its source, with the import each comes from', () => {
    const core = [
      "import { ChargeResource, } from './resources/Charges.js';",
      "import { Apps } from './resources/Apps/index.js';",
      "import { OAuthResource } from './resources.js';",
      '        this.charges = new ChargeResource(this);',
      '        this.apps = new Apps(this);',
      '        this.oauth = new OAuthResource(this);',
    ].join('\n');
    expect(() => stripeResourceImports(core)).toThrow(/changed shape/);
    const real = stripeResourceImports();
    expect(real).toContainEqual({ property: 'charges', className: 'ChargeResource', specifier: './resources/Charges.js' });
    expect(real).toContainEqual({ property: 'apps', className: 'Apps', specifier: './resources/Apps/index.js' });
    expect(real.some((r) => r.property === 'oauth')).toBe(false); // from resources.js, kept by src/build/stripe-resource-namespace.ts
    const { kept, leftOut } = plan(real, ['charges']);
    expect(kept.map((r) => r.property)).toEqual(['charges']);
    expect(renderAliases(leftOut)).not.toContain('Charges.js');
    expect(renderStub(leftOut)).toContain('LeftOut as Apps');
  });
});
