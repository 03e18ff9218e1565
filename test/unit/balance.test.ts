import { describe, expect, it } from 'vitest';
import { cardBalanceOutstanding, orderBalance, type BalancePayment } from '../../src/domain/balance.js';

const pay = (p: Partial<BalancePayment> & Pick<BalancePayment, 'kind' | 'status'>): BalancePayment => ({
  amount: 0,
  amountCapturable: 0,
  amountCaptured: 0,
  amountRefunded: 0,
  ...p,
});

describe('orderBalance', () => {
  it('before the weigh-in the estimate is due and the hold only authorised', () => {
    const b = orderBalance({ status: 'confirmed', finalTotal: null, estimatedTotal: 2500, waivers: [], creditRefunds: [], payments: [pay({ kind: 'hold', status: 'requires_capture', amount: 2750, amountCapturable: 2750 })] });
    expect(b).toEqual({ due: 2500, authorised: 2750, paid: 0, refunded: 0, refundedToCredit: 0, waived: 0, outstanding: 2500 });
  });

  it('a captured hold and a charged overage pay the final total; a refund does not make it owed again', () => {
    const b = orderBalance({
      status: 'ready',
      finalTotal: 3200,
      estimatedTotal: 2500,
      waivers: [],
      creditRefunds: [],
      payments: [
        pay({ kind: 'hold', status: 'succeeded', amount: 2750, amountCaptured: 2750, amountRefunded: 500 }),
        pay({ kind: 'overage', status: 'succeeded', amount: 450, amountCaptured: 450 }),
      ],
    });
    expect(b).toEqual({ due: 3200, authorised: 0, paid: 3200, refunded: 500, refundedToCredit: 0, waived: 0, outstanding: 0 });
  });

  it('a lost hold leaves the final total outstanding until paid or waived', () => {
    const lost = { status: 'ready', finalTotal: 3000, estimatedTotal: 2500, paymentMethod: 'card' } as const;
    const hold = pay({ kind: 'hold', status: 'canceled', amount: 2750 });
    expect(orderBalance({ ...lost, payments: [hold], waivers: [], creditRefunds: [] }).outstanding).toBe(3000);
    expect(cardBalanceOutstanding({ ...lost, payments: [hold], waivers: [], creditRefunds: [] })).toBe(true);
    const declined = pay({ kind: 'balance', status: 'failed', amount: 3000 });
    const paid = pay({ kind: 'balance', status: 'succeeded', amount: 3000, amountCaptured: 3000 });
    expect(orderBalance({ ...lost, payments: [hold, declined, paid], waivers: [], creditRefunds: [] }).outstanding).toBe(0);
    expect(orderBalance({ ...lost, payments: [hold, declined], waivers: [{ amount: 1000 }, { amount: 2000 }], creditRefunds: [] })).toMatchObject({ waived: 3000, outstanding: 0 });
  });

  it('a refund to account credit is reported beside the card refunds, in neither `refunded` nor `outstanding`', () => {
    const order = { status: 'delivered', finalTotal: 3000, estimatedTotal: 2500, waivers: [] } as const;
    const hold = pay({ kind: 'hold', status: 'succeeded', amount: 3000, amountCaptured: 3000, amountRefunded: 200 });
    const b = orderBalance({ ...order, payments: [hold], creditRefunds: [{ amount: 500 }, { amount: 300 }] });
    expect(b).toEqual({ due: 3000, authorised: 0, paid: 3000, refunded: 200, refundedToCredit: 800, waived: 0, outstanding: 0 });
    // Money given back as credit is not owed: a balance still to collect stays what it was.
    const short = pay({ kind: 'hold', status: 'succeeded', amount: 2000, amountCaptured: 2000 });
    const without = orderBalance({ ...order, payments: [short], creditRefunds: [] });
    const withCredit = orderBalance({ ...order, payments: [short], creditRefunds: [{ amount: 700 }] });
    expect(without.outstanding).toBe(1000);
    expect(withCredit).toEqual({ ...without, refundedToCredit: 700 });
  });

  it('an overage below the minimum charge counts as waived', () => {
    const b = orderBalance({
      status: 'ready',
      finalTotal: 2409,
      estimatedTotal: 2300,
      waivers: [],
      creditRefunds: [],
      payments: [pay({ kind: 'hold', status: 'succeeded', amount: 2399, amountCaptured: 2399 }), pay({ kind: 'overage', status: 'waived', amount: 10 })],
    });
    expect(b).toMatchObject({ paid: 2399, waived: 10, outstanding: 0 });
  });

  it('a cancelled order owes nothing; pay-on-delivery and unweighed card orders are not card balances', () => {
    expect(orderBalance({ status: 'cancelled', finalTotal: 3000, estimatedTotal: 2500, payments: [], waivers: [], creditRefunds: [] }).outstanding).toBe(0);
    expect(cardBalanceOutstanding({ status: 'delivered', finalTotal: 3000, estimatedTotal: 2500, paymentMethod: 'on_delivery', payments: [], waivers: [], creditRefunds: [] })).toBe(false);
    expect(cardBalanceOutstanding({ status: 'confirmed', finalTotal: null, estimatedTotal: 2500, paymentMethod: 'card', payments: [], waivers: [], creditRefunds: [] })).toBe(false);
  });
});
