/**
 * Every object the stand-in answers carries every field the pinned `stripe` package's types mark
 * as required (not `?`): read from node_modules/stripe's declarations with the TypeScript
 * compiler API, so a field the app may read is never `undefined` here while Stripe sends it
 * (its value may be null where the type allows null).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import Stripe from 'stripe';
import { beforeEach, describe, expect, it } from 'vitest';
import { API_VERSION, rejection, useStandIn } from './stripe-stand-in-setup.js';

const t = useStandIn();
let stripe: Stripe;
beforeEach(() => {
  stripe = t.stripe;
});

/** The declarations next to the module Node resolves for `stripe` (cjs/ or esm/ of the pinned package). */
const RESOURCES = join(dirname(createRequire(import.meta.url).resolve('stripe')), 'resources');

/** The non-optional property names of `export interface <name>` (or `Ns.Inner` in `declare namespace Ns`) in resources/<file>.d.ts. */
function requiredKeys(file: string, dotted: string): string[] {
  const path = join(RESOURCES, `${file}.d.ts`);
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const names = dotted.split('.');
  let statements: readonly ts.Statement[] = source.statements;
  for (const ns of names.slice(0, -1)) {
    const m = statements.find((s): s is ts.ModuleDeclaration => ts.isModuleDeclaration(s) && s.name.getText(source) === ns);
    if (!m?.body || !ts.isModuleBlock(m.body)) throw new Error(`no namespace ${ns} of ${dotted} in ${path}`);
    statements = m.body.statements;
  }
  const decl = statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === names.at(-1));
  if (!decl) throw new Error(`no interface ${dotted} in ${path}`);
  return decl.members
    .filter((m): m is ts.PropertySignature => ts.isPropertySignature(m) && !m.questionToken)
    .map((m) => m.name.getText(source));
}

const TYPES = {
  payment_intent: ['PaymentIntents', 'PaymentIntent'],
  charge: ['Charges', 'Charge'],
  refund: ['Refunds', 'Refund'],
  customer: ['Customers', 'Customer'],
  payment_method: ['PaymentMethods', 'PaymentMethod'],
  customer_session: ['CustomerSessions', 'CustomerSession'],
  ephemeral_key: ['EphemeralKeys', 'EphemeralKey'],
  event: ['Events', 'EventBase'],
  dispute: ['Disputes', 'Dispute'],
} as const;

type Kind = keyof typeof TYPES;

/** Nested objects checked too, where present (not null): path in the object → type in the same file. */
const NESTED: Partial<Record<Kind, Record<string, string>>> = {
  payment_intent: {
    last_payment_error: 'PaymentIntent.LastPaymentError',
    automatic_payment_methods: 'PaymentIntent.AutomaticPaymentMethods',
    'payment_method_options.card': 'PaymentIntent.PaymentMethodOptions.Card',
  },
  charge: {
    outcome: 'Charge.Outcome',
    billing_details: 'Charge.BillingDetails',
    payment_method_details: 'Charge.PaymentMethodDetails',
    'payment_method_details.card': 'Charge.PaymentMethodDetails.Card',
  },
  payment_method: { card: 'PaymentMethod.Card', billing_details: 'PaymentMethod.BillingDetails' },
  customer: { invoice_settings: 'Customer.InvoiceSettings' },
  customer_session: {
    components: 'CustomerSession.Components',
    'components.mobile_payment_element': 'CustomerSession.Components.MobilePaymentElement',
    'components.mobile_payment_element.features': 'CustomerSession.Components.MobilePaymentElement.Features',
  },
  refund: { destination_details: 'Refund.DestinationDetails' },
  dispute: { evidence_details: 'Dispute.EvidenceDetails' },
};

function missingKeys(kind: Kind, object: Record<string, unknown>): string[] {
  const [file, name] = TYPES[kind];
  const missing = requiredKeys(file, name).filter((k) => !(k in object));
  for (const [path, type] of Object.entries(NESTED[kind] ?? {})) {
    const value = path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), object);
    if (value && typeof value === 'object') missing.push(...requiredKeys(file, type).filter((k) => !(k in value)).map((k) => `${path}.${k}`));
  }
  return missing;
}

/** Drives the stand-in through the states the app uses and returns one object of each state. */
async function sampleObjects(): Promise<Array<[Kind, string, Record<string, unknown>]>> {
  const { standIn } = t;
  const out: Array<[Kind, string, Record<string, unknown>]> = [];
  const add = (kind: Kind, label: string, o: unknown) => out.push([kind, label, o as Record<string, unknown>]);
  const customer = await stripe.customers.create({ email: 'ada@example.com' });
  add('customer', 'created', customer);
  const open = await stripe.paymentIntents.create({ amount: 5000, currency: 'eur', customer: customer.id, capture_method: 'manual' });
  add('payment_intent', 'requires_payment_method', open);
  standIn.authorize(open.id, { paymentMethod: 'pm_card_refundFail' });
  const held = await stripe.paymentIntents.retrieve(open.id);
  add('payment_intent', 'requires_capture', held);
  add('payment_method', 'saved by the sheet', await stripe.paymentMethods.retrieve(held.payment_method as string));
  add('customer', 'with a default card', await stripe.customers.retrieve(customer.id));
  const captured = await stripe.paymentIntents.capture(open.id);
  add('payment_intent', 'succeeded', captured);
  add('charge', 'captured', await stripe.charges.retrieve(captured.latest_charge as string));
  const refund = await stripe.refunds.create({ payment_intent: open.id, amount: 1000 });
  add('refund', 'succeeded', refund);
  add('refund', 'failed', standIn.settleRefund(refund.id, 'failed'));
  const slow = await stripe.paymentIntents.create({ amount: 3000, currency: 'eur', payment_method: 'pm_card_pendingRefund', confirm: true, allowed_payment_method_types: ['card'] });
  add('refund', 'pending', await stripe.refunds.create({ payment_intent: slow.id }));
  const threeDS = await stripe.paymentIntents.create({ amount: 3000, currency: 'eur', payment_method: 'pm_card_authenticationRequired', confirm: true, return_url: 'laundry://stripe-redirect' });
  add('payment_intent', 'requires_action', threeDS);
  const declined = await rejection(stripe.paymentIntents.create({
    amount: 900, currency: 'eur', customer: customer.id, payment_method: 'pm_card_chargeDeclined', confirm: true, allowed_payment_method_types: ['card'],
  }));
  add('payment_intent', 'declined (error.payment_intent)', declined.payment_intent);
  add('charge', 'failed', await stripe.charges.retrieve(declined.payment_intent!.latest_charge as string));
  const canceled = await stripe.paymentIntents.cancel((await stripe.paymentIntents.create({ amount: 700, currency: 'eur' })).id);
  add('payment_intent', 'canceled', canceled);
  add('dispute', 'opened', standIn.dispute(captured.latest_charge as string));
  add('customer_session', 'mobile_payment_element', await stripe.customerSessions.create({ customer: customer.id, components: { mobile_payment_element: { enabled: true, features: { payment_method_save: 'enabled' } } } }));
  add('ephemeral_key', 'created', await stripe.ephemeralKeys.create({ customer: customer.id }, { apiVersion: API_VERSION }));
  for (const e of standIn.emittedEvents()) {
    add('event', e.type, e);
    const kind = e.data.object.object as Kind;
    if (kind in TYPES) add(kind, `in ${e.type}`, e.data.object);
  }
  return out;
}

describe('response objects have every field the stripe package types as required', () => {
  it('reads the required fields from the declarations', () => {
    expect(requiredKeys('PaymentIntents', 'PaymentIntent')).toEqual(expect.arrayContaining(['id', 'status', 'latest_charge', 'amount_capturable']));
    expect(requiredKeys('Refunds', 'Refund')).not.toContain('failure_reason'); // optional in the types
    expect(requiredKeys('Charges', 'Charge.Outcome')).toContain('network_status');
  });

  it('every object of every kind, in every state the app meets', async () => {
    const samples = await sampleObjects();
    expect(new Set(samples.map(([kind]) => kind))).toEqual(new Set(Object.keys(TYPES)));
    const gaps = samples.map(([kind, label, o]) => [`${kind} (${label})`, missingKeys(kind, o)] as const).filter(([, m]) => m.length > 0);
    expect(Object.fromEntries(gaps)).toEqual({});
  });
});
