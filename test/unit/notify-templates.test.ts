/**
 * Issue 17: the notification templates (src/notifications/templates.ts), the backoff rule
 * (src/notifications/dispatch.ts backoffMs/resultOf) and the metric names the alert rules use.
 */
import { describe, expect, it } from 'vitest';
import { NOTIFICATION_CHANNELS, NOTIFICATION_TYPES } from '../../src/db/schema-notification-kinds.js';
import { createPrometheusMetrics } from '../../src/metrics/prometheus.js';
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS, MAX_ATTEMPTS, RETRY_AFTER_MAX_MS, backoffMs, resultOf } from '../../src/notifications/retry-policy.js';
import { SMS_MAX_GSM, formatAmount, gsmLength, languageOf, localWindow, renderMessage, type TemplateInput } from '../../src/notifications/templates.js';

const ORDER_ID = '0b6f3c52-9d1e-4a8b-b6a0-6d3c2f1e0a99';

const input = (over: Partial<TemplateInput> = {}): TemplateInput => ({
  channel: 'push',
  type: 'order_confirmed',
  recipient: 'token-1',
  deliveryId: 42,
  locale: null,
  orderId: ORDER_ID,
  timeZone: 'Europe/London',
  // 09:00-11:00 BST on Tuesday 1 June 2027.
  pickupStartsAt: new Date('2027-06-01T08:00:00Z'),
  pickupEndsAt: new Date('2027-06-01T10:00:00Z'),
  deliveryStartsAt: new Date('2027-06-04T16:00:00Z'),
  deliveryEndsAt: new Date('2027-06-04T18:00:00Z'),
  data: { orderId: ORDER_ID, bagCount: 2, amount: 1250, currency: 'GBP' },
  ...over,
});

describe('language', () => {
  it('any es tag is Spanish; everything else, or nothing, is English', () => {
    expect(['es', 'es-ES', 'es-419', 'ES_mx'].map(languageOf)).toEqual(['es', 'es', 'es', 'es']);
    expect(['en-GB', 'fr', 'esperanto', '', null, undefined].map(languageOf)).toEqual(['en', 'en', 'en', 'en', 'en', 'en']);
  });

  it("push follows the locale it is given (the device's), and so do sms and email (the customer's)", () => {
    expect(renderMessage(input({ locale: 'es' })).title).toBe('Pedido confirmado');
    expect(renderMessage(input({ locale: 'en-GB' })).title).toBe('Order confirmed');
    expect(renderMessage(input({ channel: 'email', recipient: 'a@example.test', locale: 'es-ES' })).body).toContain('Gracias');
  });
});

describe('times', () => {
  it('shows the slot in the zone\'s local time, not UTC', () => {
    expect(localWindow('en', 'Europe/London', new Date('2027-06-01T08:00:00Z'), new Date('2027-06-01T10:00:00Z'))).toBe('Tue 1 Jun 09:00-11:00');
    expect(localWindow('en', 'America/New_York', new Date('2027-06-01T13:00:00Z'), new Date('2027-06-01T15:00:00Z'))).toBe('Tue 1 Jun 09:00-11:00');
    // Winter in London is GMT: the same wall time is a different instant.
    expect(localWindow('en', 'Europe/London', new Date('2027-12-07T09:00:00Z'), null)).toBe('Tue 7 Dec 09:00');
    expect(localWindow('es', 'Europe/Madrid', new Date('2027-06-01T07:00:00Z'), new Date('2027-06-01T09:00:00Z'))).toBe('mar 1 jun 09:00-11:00');
  });

  it('the confirmation names the pickup window in local time', () => {
    expect(renderMessage(input()).body).toBe(`Order ${ORDER_ID.slice(0, 8).toUpperCase()} is confirmed. Pickup: Tue 1 Jun 09:00-11:00.`);
  });
});

describe('channels', () => {
  it('push data is only { type, orderId }', () => {
    for (const type of NOTIFICATION_TYPES) {
      expect(renderMessage(input({ type })).data).toEqual({ type, orderId: ORDER_ID });
    }
  });

  it('every SMS, in both languages, is GSM-7 and fits one 160-septet segment', () => {
    for (const type of NOTIFICATION_TYPES) {
      for (const locale of ['en', 'es']) {
        const m = renderMessage(input({ channel: 'sms', recipient: '+447700900123', type, locale }));
        const length = gsmLength(m.body);
        expect(length, `${type}/${locale}: ${m.body}`).toBeDefined();
        expect(length!, m.body).toBeLessThanOrEqual(SMS_MAX_GSM);
        expect(m.body.startsWith('Laundry: ')).toBe(true);
      }
    }
    // Spanish accents outside GSM-7 are folded: "mañana" keeps ñ (GSM), "está" loses the accent.
    expect(renderMessage(input({ channel: 'sms', type: 'ready', locale: 'es' })).body).toContain('esta limpio');
  });

  it('email has a subject and a text body; every type and channel renders with the idempotency key = delivery id', () => {
    const m = renderMessage(input({ channel: 'email', recipient: 'a@example.test', type: 'refund_issued' }));
    expect(m.title).toBe('Refund issued');
    expect(m.body).toContain('£12.50');
    for (const type of NOTIFICATION_TYPES) {
      for (const channel of NOTIFICATION_CHANNELS) {
        const r = renderMessage(input({ type, channel }));
        expect(r.title.length).toBeGreaterThan(0);
        expect(r.body.length).toBeGreaterThan(0);
        expect(r.idempotencyKey).toBe('42');
      }
    }
  });

  it('a missed pickup names the fee (none when 0) and invites a new booking; a reschedule names the new windows', () => {
    expect(renderMessage(input({ type: 'pickup_missed' })).body).toBe(`We could not collect order ${ORDER_ID.slice(0, 8).toUpperCase()}. Missed-pickup fee: £12.50. Book a new pickup in the app.`);
    const free = renderMessage(input({ type: 'pickup_missed', data: { orderId: ORDER_ID, amount: 0, currency: 'GBP' } }));
    expect(free.body).not.toContain('fee');
    expect(free.body).toContain('Book a new pickup');
    expect(renderMessage(input({ type: 'pickup_missed', locale: 'es' })).body).toContain('Reserva otra recogida');
    const moved = renderMessage(input({ type: 'rescheduled' }));
    expect(moved.title).toBe('Order rescheduled');
    expect(moved.body).toContain('pickup Tue 1 Jun 09:00-11:00');
    expect(moved.body).toContain('delivery Fri 4 Jun 17:00-19:00');
  });

  it('a refund says where the money went: to the account credit for a refund to credit, the neutral wording for a card refund', () => {
    const ref = ORDER_ID.slice(0, 8).toUpperCase();
    const esAmount = formatAmount('es', 1250, 'GBP'); // as ICU writes it: "12,50 GBP" today
    const refund = (destination: string | undefined, locale: string, over: Partial<TemplateInput> = {}) =>
      renderMessage(input({ type: 'refund_issued', locale, data: { orderId: ORDER_ID, amount: 1250, currency: 'GBP', ...(destination ? { destination } : {}) }, ...over }));
    expect(refund('credit', 'en')).toMatchObject({ title: 'Refund added to your credit', body: `Refund of £12.50 for order ${ref} added to your account credit, not your card.` });
    expect(refund('credit', 'es')).toMatchObject({ title: 'Reembolso en tu saldo', body: `Reembolso de ${esAmount} del pedido ${ref} añadido al saldo de tu cuenta, no a tu tarjeta.` });
    // A card refund (its timeline entry names no destination), or one explicitly to the card.
    for (const destination of [undefined, 'card']) {
      expect(refund(destination, 'en')).toMatchObject({ title: 'Refund issued', body: `Refund of £12.50 for order ${ref} issued.` });
      expect(refund(destination, 'es')).toMatchObject({ title: 'Reembolso emitido', body: `Reembolso de ${esAmount} del pedido ${ref} emitido.` });
      expect(refund(destination, 'en').body).not.toMatch(/credit/i);
      expect(refund(destination, 'es').body).not.toMatch(/saldo/);
    }
    // Every channel and language of the credit wording, with the longest amount (euros: € is two septets), fits one SMS.
    for (const locale of ['en', 'es']) {
      const sms = renderMessage(input({ channel: 'sms', recipient: '+447700900123', type: 'refund_issued', locale, data: { orderId: ORDER_ID, amount: 99_999_999, currency: 'EUR', destination: 'credit' } }));
      expect(gsmLength(sms.body), sms.body).toBeDefined();
      expect(gsmLength(sms.body)!, sms.body).toBeLessThanOrEqual(SMS_MAX_GSM);
      expect(sms.body).not.toContain('...');
      const email = refund('credit', locale, { channel: 'email', recipient: 'a@example.test' });
      expect(email.body).toContain(locale === 'es' ? 'saldo de tu cuenta' : 'account credit');
    }
  });

  it('a recurring date that could not be booked names the local date and why, in one SMS, with no order', () => {
    const data = { scheduleId: ORDER_ID, date: '2027-06-01', reason: 'slot_unavailable' };
    const none = { orderId: null, pickupStartsAt: null, pickupEndsAt: null, deliveryStartsAt: null, deliveryEndsAt: null };
    const m = renderMessage(input({ type: 'recurring_needs_attention', ...none, data }));
    expect(m).toMatchObject({ title: 'Pickup not booked', data: { type: 'recurring_needs_attention' } });
    expect(m.body).toBe('We could not book your regular pickup on Tue 1 Jun: no window was free that day. Choose another in the app.');
    expect(renderMessage(input({ type: 'recurring_needs_attention', ...none, data: { ...data, reason: 'postcode_not_served' } })).body).toBe(
      'We could not book your regular pickup on Tue 1 Jun. Choose another in the app.',
    );
    for (const locale of ['en', 'es']) {
      const sms = renderMessage(input({ channel: 'sms', recipient: '+447700900123', type: 'recurring_needs_attention', locale, ...none, data }));
      expect(gsmLength(sms.body)!, sms.body).toBeLessThanOrEqual(SMS_MAX_GSM);
      expect(sms.body).not.toContain('...');
    }
    expect(renderMessage(input({ type: 'recurring_needs_attention', locale: 'es', ...none, data })).body).toContain('mar 1 jun');
  });

  it('renders without an order or slots (nothing invented)', () => {
    const m = renderMessage(input({ orderId: null, pickupStartsAt: null, pickupEndsAt: null, timeZone: null, data: {} }));
    expect(m.body).toBe('Order  is confirmed.');
    expect(m.data).toEqual({ type: 'order_confirmed' });
  });
});

describe('backoff', () => {
  it('doubles from 30 s with ±20 % jitter, capped; Retry-After is a floor, itself bounded', () => {
    expect(backoffMs(1, undefined, () => 0.5)).toBe(BACKOFF_BASE_MS);
    expect(backoffMs(2, undefined, () => 0.5)).toBe(2 * BACKOFF_BASE_MS);
    expect(backoffMs(1, undefined, () => 0)).toBe(0.8 * BACKOFF_BASE_MS);
    expect(backoffMs(1, undefined, () => 0.999999)).toBeLessThanOrEqual(1.2 * BACKOFF_BASE_MS);
    expect(backoffMs(20, undefined, () => 0.5)).toBe(BACKOFF_CAP_MS);
    expect(backoffMs(1, 90_000, () => 0.5)).toBe(90_000);
    expect(backoffMs(5, 1_000, () => 0.5)).toBe(16 * BACKOFF_BASE_MS);
    expect(backoffMs(1, 10 * 24 * 3_600_000, () => 0.5)).toBe(RETRY_AFTER_MAX_MS);
  });

  it('a retry at the last attempt is dead; the others are put back with their time', () => {
    const now = new Date('2027-01-01T00:00:00Z');
    expect(resultOf({ id: 1, attempts: MAX_ATTEMPTS }, { kind: 'retry', error: 'HTTP 500' }, now)).toMatchObject({ outcome: 'dead' });
    expect(resultOf({ id: 1, attempts: 1 }, { kind: 'retry', error: 'HTTP 429', retryAfterMs: 5_000 }, now, () => 0.5)).toEqual({
      id: 1,
      attempts: 1,
      outcome: 'retry',
      error: 'HTTP 429',
      retryAt: new Date(now.getTime() + BACKOFF_BASE_MS),
    });
  });
});

describe('metrics', () => {
  it('Prometheus exposes the names the alert rules use', async () => {
    const m = createPrometheusMetrics({ version: 'v1', defaultMetrics: false });
    m.notificationDelivery({ channel: 'push', provider: 'fcm', outcome: 'sent' });
    m.notificationBacklog({ pending: 3, oldestPendingAgeSeconds: 75, dead: 1 });
    const { body } = await m.scrape();
    expect(body).toContain('laundry_notification_deliveries_total{channel="push",provider="fcm",outcome="sent"} 1');
    expect(body).toContain('laundry_notification_pending 3');
    expect(body).toContain('laundry_notification_oldest_pending_age_seconds 75');
    expect(body).toContain('laundry_notification_dead_letters 1');
  });
});
