/**
 * An order's balance: what is due, what was paid, refunded and waived, and what is still
 * outstanding, derived from the order's recorded money (the card hold and its capture, overage
 * and balance charges, payments at the door, refunds, waivers). Pure; amounts in minor units of
 * the order's currency. The database's `order_balances` view (src/db/schema-payments.ts) is its
 * SQL twin for guards and jobs; test/node/order-balance.test.ts proves the two agree.
 *
 * Refunds do not make money outstanding again: a refund is a decision to give money back (a
 * goodwill refund, a cancelled order), not a debt of the customer's. That holds for both
 * destinations: `refunded` (to the card) and `refundedToCredit` (to the account credit) are
 * reported, and neither enters `outstanding`.
 */

/** One recorded payment, as our `payments` row holds it (Stripe's view for card payments). */
export interface BalancePayment {
  kind: 'hold' | 'overage' | 'in_person' | 'balance';
  status: string;
  /** What was asked for. */
  amount: number;
  /** Authorised and not yet captured (a hold in `requires_capture`). */
  amountCapturable: number;
  /** Captured, or taken at the door. */
  amountCaptured: number;
  /** Returned to the customer (Stripe's running total for the charge). */
  amountRefunded: number;
}

export interface BalanceInput {
  /** Order status: a cancelled order owes nothing. */
  status: string;
  /** Minor units; null until the weigh-in. */
  finalTotal: number | null;
  estimatedTotal: number;
  payments: readonly BalancePayment[];
  /** Admins' waivers (`balance_waivers`). */
  waivers: readonly { amount: number }[];
  /** Refunds to account credit: the `refund_to_credit` credit entries naming the order. */
  creditRefunds: readonly { amount: number }[];
}

export interface OrderBalance {
  /** 0 once cancelled; else the final total once weighed, else the estimate. */
  due: number;
  /** Held on the card, not captured yet. */
  authorised: number;
  /** Captured or paid at the door; refunds do not reduce it. */
  paid: number;
  /** Given back on the card (Stripe's running totals on the payment rows). */
  refunded: number;
  /** Given back as account credit (`refund_to_credit` entries naming the order); not in `refunded`. */
  refundedToCredit: number;
  /** Overages below Stripe's minimum charge, and admins' waivers. */
  waived: number;
  /** max(0, due − paid − waived): refunds of either kind never make money owed again. */
  outstanding: number;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

export function orderBalance(input: BalanceInput): OrderBalance {
  const { payments } = input;
  const due = input.status === 'cancelled' ? 0 : (input.finalTotal ?? input.estimatedTotal);
  const authorised = sum(payments.filter((p) => p.status === 'requires_capture').map((p) => p.amountCapturable));
  const paid = sum(payments.map((p) => p.amountCaptured));
  const refunded = sum(payments.map((p) => p.amountRefunded));
  const waived = sum(payments.filter((p) => p.status === 'waived').map((p) => p.amount)) + sum(input.waivers.map((w) => w.amount));
  const refundedToCredit = sum(input.creditRefunds.map((c) => c.amount));
  return { due, authorised, paid, refunded, refundedToCredit, waived, outstanding: Math.max(0, due - paid - waived) };
}

/**
 * Whether a card order's balance needs collecting before delivery: weighed, not cancelled, and
 * something outstanding. Before the weigh-in the hold covers the estimate; nothing is owed yet.
 */
export function cardBalanceOutstanding(input: BalanceInput & { paymentMethod: string }): boolean {
  return input.paymentMethod === 'card' && input.finalTotal !== null && input.status !== 'cancelled' && orderBalance(input).outstanding > 0;
}
