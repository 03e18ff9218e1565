/**
 * The title and body an inbox entry shows. A stand-in until the dispatcher's templates
 * (src/notifications/templates.ts, issue 17) land: minimal English, no personal data, no times.
 * The lead swaps `inboxText` for the templates' renderer (same inputs: the type, the outbox
 * row's `data`, the reader's locale); nothing else in the module renders text.
 */
import type { NotificationType } from '../../db/schema-notification-kinds.js';

export interface InboxText {
  title: string;
  body: string;
}

const TEXT: Record<NotificationType, (data: Record<string, unknown>) => InboxText> = {
  order_confirmed: () => ({ title: 'Order confirmed', body: 'Your laundry order is confirmed. We will pick it up in the window you chose.' }),
  picked_up: (d) => ({
    title: 'Laundry picked up',
    body: typeof d.bagCount === 'number' ? `We picked up ${d.bagCount} ${d.bagCount === 1 ? 'bag' : 'bags'}.` : 'We picked up your laundry.',
  }),
  ready: () => ({ title: 'Laundry ready', body: 'Your laundry is clean and ready for delivery.' }),
  out_for_delivery: () => ({ title: 'Out for delivery', body: 'Your driver is on the way with your laundry.' }),
  delivered: () => ({ title: 'Delivered', body: 'Your laundry has been delivered. Thank you!' }),
  cancelled: (d) => ({
    title: 'Order cancelled',
    body: d.cancelledBy === 'customer' ? 'Your order was cancelled as you asked.' : 'Your order was cancelled by our team.',
  }),
  payment_action_required: () => ({ title: 'Payment needs your attention', body: 'Open your order to complete the payment.' }),
  refund_issued: (d) => ({
    title: 'Refund issued',
    body: typeof d.amount === 'number' && typeof d.currency === 'string' ? `We refunded ${formatMinor(d.amount, d.currency)}.` : 'We issued a refund.',
  }),
  pickup_reminder: () => ({ title: 'Pickup tomorrow', body: 'Reminder: we pick up your laundry tomorrow.' }),
};

/** `amount` minor units of `currency`, e.g. 1250 GBP → "GBP 12.50" (2-decimal currencies; others as minor units). */
function formatMinor(amount: number, currency: string): string {
  try {
    const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    return new Intl.NumberFormat('en', { style: 'currency', currency }).format(amount / 10 ** digits);
  } catch {
    return `${amount} ${currency} (minor units)`;
  }
}

/** What the inbox shows for one outbox row. `locale` is the account's (BCP 47) or null; English for now. */
export function inboxText(type: NotificationType, data: Record<string, unknown>, _locale: string | null): InboxText {
  return TEXT[type](data);
}
