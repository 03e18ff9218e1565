/**
 * The words of every notification: one short template per type, in English and Spanish (`es`).
 * Pure: no I/O, no clock; both runtimes. The dispatcher (./dispatch.ts) passes what the claim
 * statement read (the outbox row's data, the order's slots and the zone's time zone, the device's
 * or the customer's locale) and gets back the RenderedMessage a ChannelClient sends.
 *
 * Rules (issue 17):
 * - language: the device's locale for push, `users.locale` for SMS and email; any `es*` tag is
 *   Spanish, anything else (or none) English;
 * - times are the order's slot times in the ZONE's time zone (zones.time_zone, IANA), never UTC
 *   and never the server's zone;
 * - push `data` is only `{ type, orderId }` (strings, as FCM requires);
 * - SMS text is GSM-7 only (accents outside GSM-7 are folded: á → a) and at most 160 characters,
 *   one segment, whenever the template allows it (every template here does: unit-tested);
 * - email: subject (= `title`) and a plain-text body.
 */
import type { NotificationChannel, NotificationType, RenderedMessage } from './types.js';

export type TemplateLanguage = 'en' | 'es';

export interface TemplateInput {
  channel: NotificationChannel;
  type: NotificationType;
  /** Device token, E.164 number or email address. */
  recipient: string;
  /** notification_deliveries.id: the message's idempotency key. */
  deliveryId: number | string;
  /** BCP 47 tag (device locale for push, users.locale otherwise); null = English. */
  locale: string | null;
  orderId: string | null;
  /** The zone's IANA time zone; UTC when unknown. */
  timeZone: string | null;
  pickupStartsAt: Date | null;
  pickupEndsAt: Date | null;
  deliveryStartsAt: Date | null;
  deliveryEndsAt: Date | null;
  /** notification_outbox.data: `{ orderId, status?, bagCount?, cancelledBy?, amount?, currency?, destination? }` (`destination`: `refund_issued` only, 'credit' for a refund to account credit); `recurring_needs_attention`: `{ scheduleId, date, reason }`. */
  data: Record<string, unknown>;
}

/** `es`, `es-ES`, `es-419` → Spanish; everything else (or null) → English. */
export function languageOf(locale: string | null | undefined): TemplateLanguage {
  return locale && /^es(?:[-_]|$)/i.test(locale.trim()) ? 'es' : 'en';
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(lang: TemplateLanguage, timeZone: string, part: 'day' | 'time'): Intl.DateTimeFormat {
  const key = `${lang}|${timeZone}|${part}`;
  let f = formatters.get(key);
  if (!f) {
    let zone = timeZone;
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
    } catch {
      zone = 'UTC';
    }
    f =
      part === 'day'
        ? new Intl.DateTimeFormat(lang === 'es' ? 'es-ES' : 'en-GB', { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short' })
        : new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(key, f);
  }
  return f;
}

/** Non-breaking and narrow spaces (ICU output) as plain spaces, and no trailing dots ("mar." → "mar"). */
const tidy = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ').replace(/\./g, '').replace(/,/g, '');

/** A window as the zone's clock shows it: `Tue 3 Mar 09:00-11:00` / `mar 3 mar 09:00-11:00`. */
export function localWindow(lang: TemplateLanguage, timeZone: string | null, startsAt: Date, endsAt: Date | null): string {
  const zone = timeZone ?? 'UTC';
  const day = tidy(formatter(lang, zone, 'day').format(startsAt));
  const from = formatter(lang, zone, 'time').format(startsAt);
  return endsAt ? `${day} ${from}-${formatter(lang, zone, 'time').format(endsAt)}` : `${day} ${from}`;
}

/** An amount in minor units as the customer reads it (`£12.50`, `12,50 €`); the bare number when the currency is unknown. */
export function formatAmount(lang: TemplateLanguage, amount: unknown, currency: unknown): string | undefined {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) return undefined;
  if (typeof currency !== 'string') return String(amount);
  try {
    const f = new Intl.NumberFormat(lang === 'es' ? 'es-ES' : 'en-GB', { style: 'currency', currency });
    const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
    return f.format(amount / 10 ** digits).replace(/[\u00a0\u202f]/g, ' ');
  } catch {
    return `${amount} ${currency}`;
  }
}

interface Words {
  title: string;
  body: string;
}

function words(lang: TemplateLanguage, input: TemplateInput): Words {
  const ref = input.orderId ? input.orderId.slice(0, 8).toUpperCase() : '';
  const pickup = input.pickupStartsAt ? localWindow(lang, input.timeZone, input.pickupStartsAt, input.pickupEndsAt) : undefined;
  const delivery = input.deliveryStartsAt ? localWindow(lang, input.timeZone, input.deliveryStartsAt, input.deliveryEndsAt) : undefined;
  const bags = typeof input.data.bagCount === 'number' ? input.data.bagCount : undefined;
  const amount = formatAmount(lang, input.data.amount, input.data.currency);
  const es = lang === 'es';
  switch (input.type) {
    case 'order_confirmed':
      return es
        ? { title: 'Pedido confirmado', body: `Pedido ${ref} confirmado.${pickup ? ` Recogida: ${pickup}.` : ''}` }
        : { title: 'Order confirmed', body: `Order ${ref} is confirmed.${pickup ? ` Pickup: ${pickup}.` : ''}` };
    case 'pickup_reminder':
      return es
        ? { title: 'Recogida mañana', body: `Recogemos tu pedido ${ref}${pickup ? ` el ${pickup}` : ''}. Ten la ropa lista.` }
        : { title: 'Pickup tomorrow', body: `We collect order ${ref}${pickup ? ` on ${pickup}` : ''}. Please have your laundry ready.` };
    case 'picked_up':
      return es
        ? { title: 'Ropa recogida', body: `Tenemos tu pedido ${ref}${bags !== undefined ? ` (${bags} bolsas)` : ''}.` }
        : { title: 'Laundry collected', body: `We have order ${ref}${bags !== undefined ? ` (${bags} bag${bags === 1 ? '' : 's'})` : ''}.` };
    case 'ready':
      return es
        ? { title: 'Pedido listo', body: `Tu pedido ${ref} está limpio.${delivery ? ` Entrega: ${delivery}.` : ''}` }
        : { title: 'Order ready', body: `Order ${ref} is clean.${delivery ? ` Delivery: ${delivery}.` : ''}` };
    case 'out_for_delivery':
      return es
        ? { title: 'En camino', body: `Tu pedido ${ref} va en camino${delivery ? ` (${delivery})` : ''}.` }
        : { title: 'On its way', body: `Order ${ref} is on its way${delivery ? ` (${delivery})` : ''}.` };
    case 'delivered':
      return es ? { title: 'Pedido entregado', body: `Pedido ${ref} entregado. ¡Gracias!` } : { title: 'Order delivered', body: `Order ${ref} was delivered. Thank you!` };
    case 'cancelled':
      return es ? { title: 'Pedido cancelado', body: `El pedido ${ref} se ha cancelado.` } : { title: 'Order cancelled', body: `Order ${ref} was cancelled.` };
    case 'payment_action_required':
      return es
        ? { title: 'Pago pendiente', body: `El pago del pedido ${ref} necesita tu confirmación. Abre la app.` }
        : { title: 'Payment needs you', body: `Payment for order ${ref} needs your confirmation. Open the app.` };
    case 'rescheduled':
      return es
        ? { title: 'Pedido reprogramado', body: `Pedido ${ref}:${pickup ? ` recogida ${pickup}` : ''}${delivery ? `, entrega ${delivery}` : ''}.` }
        : { title: 'Order rescheduled', body: `Order ${ref}:${pickup ? ` pickup ${pickup}` : ''}${delivery ? `, delivery ${delivery}` : ''}.` };
    case 'pickup_missed':
      return es
        ? { title: 'Recogida fallida', body: `No pudimos recoger el pedido ${ref}.${amount && input.data.amount !== 0 ? ` Cargo por recogida fallida: ${amount}.` : ''} Reserva otra recogida en la app.` }
        : { title: 'Pickup missed', body: `We could not collect order ${ref}.${amount && input.data.amount !== 0 ? ` Missed-pickup fee: ${amount}.` : ''} Book a new pickup in the app.` };
    case 'refund_issued':
      // `destination: 'credit'`: a refund to account credit (src/modules/payments/refund-credit.ts),
      // which must not read as money on its way to the card. Otherwise (a card refund, or a row
      // queued before migration 0027 passed the destination) the neutral wording.
      if (input.data.destination === 'credit') {
        return es
          ? { title: 'Reembolso en tu saldo', body: `Reembolso${amount ? ` de ${amount}` : ''} del pedido ${ref} añadido al saldo de tu cuenta, no a tu tarjeta.` }
          : { title: 'Refund added to your credit', body: `Refund${amount ? ` of ${amount}` : ''} for order ${ref} added to your account credit, not your card.` };
      }
      return es
        ? { title: 'Reembolso emitido', body: `Reembolso${amount ? ` de ${amount}` : ''} del pedido ${ref} emitido.` }
        : { title: 'Refund issued', body: `Refund${amount ? ` of ${amount}` : ''} for order ${ref} issued.` };
    case 'recurring_needs_attention': {
      const day = localDate(lang, input.data.date);
      const full = input.data.reason === 'slot_unavailable';
      return es
        ? { title: 'Recogida no reservada', body: `No pudimos reservar tu recogida periódica${day ? ` del ${day}` : ''}${full ? ': no queda ninguna franja libre ese día' : ''}. Elige otra en la app.` }
        : { title: 'Pickup not booked', body: `We could not book your regular pickup${day ? ` on ${day}` : ''}${full ? ': no window was free that day' : ''}. Choose another in the app.` };
    }
  }
}

/** A local calendar date (`YYYY-MM-DD`, the zone's date already) as `Tue 3 Mar`; undefined when it is not one. */
function localDate(lang: TemplateLanguage, date: unknown): string | undefined {
  if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  return tidy(formatter(lang, 'UTC', 'day').format(new Date(`${date}T12:00:00Z`)));
}

/**
 * The GSM 03.38 basic set plus its extension table (which costs two septets each:
 * `^{}\[~]|€`). https://en.wikipedia.org/wiki/GSM_03.38
 */
const GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED = '^{}\\[~]|€';

/** Length in GSM-7 septets, or undefined when `text` needs UCS-2 (then 70 chars per segment). */
export function gsmLength(text: string): number | undefined {
  let n = 0;
  for (const ch of text) {
    if (GSM_BASIC.includes(ch)) n += 1;
    else if (GSM_EXTENDED.includes(ch)) n += 2;
    else return undefined;
  }
  return n;
}

/** Folds accents GSM-7 lacks to their base letter (á → a, í → i, ó → o, ú → u, ç → c, ¡ ¿ kept). */
export function toGsm(text: string): string {
  let out = '';
  for (const ch of text) {
    if (GSM_BASIC.includes(ch) || GSM_EXTENDED.includes(ch)) out += ch;
    else {
      const base = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
      out += gsmLength(base) !== undefined ? base : '?';
    }
  }
  return out;
}

/** The SMS limit of one GSM-7 segment. */
export const SMS_MAX_GSM = 160;

/**
 * Renders one delivery. Push: title + short body, `data = { type, orderId }`. SMS: `"Laundry: " +
 * body`, GSM-7, cut to 160 septets at a word if it ever had to be. Email: subject = title, body =
 * the text plus a sign-off.
 */
export function renderMessage(input: TemplateInput): RenderedMessage {
  const lang = languageOf(input.locale);
  const w = words(lang, input);
  const base = { channel: input.channel, type: input.type, recipient: input.recipient, idempotencyKey: String(input.deliveryId) };
  if (input.channel === 'push') {
    return { ...base, title: w.title, body: w.body, data: { type: input.type, ...(input.orderId ? { orderId: input.orderId } : {}) } };
  }
  if (input.channel === 'sms') {
    let text = toGsm(`Laundry: ${w.body}`);
    while ((gsmLength(text) ?? Infinity) > SMS_MAX_GSM) text = `${text.slice(0, text.lastIndexOf(' ', SMS_MAX_GSM - 3))}...`;
    return { ...base, title: w.title, body: text, data: {} };
  }
  const signOff = lang === 'es' ? '\n\nGracias,\nEl equipo de Laundry' : '\n\nThanks,\nThe Laundry team';
  return { ...base, title: w.title, body: `${w.body}${signOff}`, data: {} };
}
