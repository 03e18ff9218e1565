/**
 * stripe-stand-in, part: Events built on demand from the current state (or a snapshot), and
 * signed with the real webhook scheme through stripe-node.
 */
import Stripe from 'stripe';
import { charge, disputeFor } from './charges.js';
import type { Charge, PaymentIntent, StripeEvent, StripeState } from './store.js';
import type { StripeObject } from './util.js';

/** An Event for the object with that id (a payment intent stands for its latest charge in `charge.*`, a charge for its dispute in `charge.dispute.*`) or for a snapshot. */
export function eventFor(state: StripeState, type: string, target: string | StripeObject): StripeEvent {
  if (typeof target !== 'string') return state.buildEvent(type, target);
  let obj = state.find(target);
  if (!obj) throw new Error(`event(${type}): no object ${target}`);
  const kind = type.startsWith('charge.dispute.') ? 'dispute' : type.startsWith('charge.refund.') ? 'refund' : type.split('.')[0];
  if (obj.object === 'payment_intent' && (kind === 'charge' || kind === 'dispute')) {
    const latest = (obj as PaymentIntent).latest_charge;
    if (!latest) throw new Error(`event(${type}): ${target} has no charge`);
    obj = charge(state, latest);
  }
  if (obj.object === 'charge' && kind === 'dispute') obj = disputeFor(state, charge(state, obj.id));
  if (obj.object === 'charge' && kind === 'payment_intent' && (obj as Charge).payment_intent) {
    obj = state.paymentIntents.get((obj as Charge).payment_intent!) ?? obj;
  }
  if (obj.object !== kind) throw new Error(`event(${type}): ${target} is a ${obj.object}, not a ${kind}`);
  return state.buildEvent(type, obj);
}

/** `{payload, header}` for a webhook POST: the payload as Stripe sends it (pretty JSON), and a `Stripe-Signature` header. */
export function signEvent(event: StripeEvent, secret: string, timestamp?: number): { payload: string; header: string } {
  const payload = JSON.stringify(event, null, 2);
  const header = Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });
  return { payload, header };
}
