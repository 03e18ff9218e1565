import { describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import { actor, address, slot, zone, type Actor } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';

const HOURS_TO_DELIVERY = 24 + 2 + 72 + 4;

/** An FCM-shaped registration token (about 160 characters of the FCM alphabet). */
const fcmToken = () => `${crypto.randomUUID().replaceAll('-', '')}:APA91b${'x'.repeat(120)}_${crypto.randomUUID().slice(0, 8)}`;

/**
 * The customer's side of notifications, on both runtimes: a phone registered for push, the
 * preferences matrix, an order whose status changes, and the in-app inbox those changes fill.
 */
export function notificationsJourney(harness: () => Harness) {
  /** A served customer with an address and fresh slots, a staff member, and an order body. */
  const setup = async () => {
    const h = harness();
    const z = await zone(h, { deliveryFee: 499, minimumOrder: 1500, freeDeliveryFrom: 5000 });
    const [who, staff] = [await actor(h), await actor(h, 'staff')];
    const addressId = await address(h, who.userId, z.postcode);
    const pickup = await slot(h, z.id, 'pickup', { startsInHours: 24 });
    const delivery = await slot(h, z.id, 'delivery', { startsInHours: HOURS_TO_DELIVERY });
    const washFold = (await h.api.get('/v1/services')).body.data.find((s: { slug: string }) => s.slug === 'wash-and-fold');
    const body = {
      items: [{ serviceId: washFold.id, estimatedWeightGrams: 6000 }],
      addressId,
      pickupSlotId: pickup.id,
      deliverySlotId: delivery.id,
      paymentMethod: 'on_delivery',
    };
    const place = async () => {
      const res = await h.api.post('/v1/orders', body, { token: who.token, headers: { 'idempotency-key': `n-${crypto.randomUUID()}` } });
      expect(res.status, res.text).toBe(201);
      return res.body.id as string;
    };
    return { h, who, staff, place };
  };
  const inbox = (h: Harness, who: Actor, query = '') => h.api.get(`/v1/me/notifications${query}`, { token: who.token });

  describe('notifications: devices, preferences and the inbox', () => {
    it('register a phone, set preferences, change an order, read the inbox entry, mark it read', async () => {
      const { h, who, staff, place } = await setup();
      const token = fcmToken();

      const me = await h.api.patch('/v1/me', { phone: '+447700900123', locale: 'es' }, { token: who.token });
      expect(me.status, me.text).toBe(200);
      expect(me.body).toMatchObject({ id: who.userId, phone: '+447700900123', locale: 'es' });

      const registered = await h.api.send('PUT', `/v1/me/devices/${token}`, { platform: 'android', appVersion: '3.12.0', locale: 'es-ES' }, { token: who.token });
      expect(registered.status, registered.text).toBe(201);
      expect(registered.body).toMatchObject({ token, platform: 'android', appVersion: '3.12.0', locale: 'es-ES' });
      const again = await h.api.send('PUT', `/v1/me/devices/${token}`, { platform: 'android', appVersion: '3.13.0' }, { token: who.token });
      expect(again.status, again.text).toBe(200);
      expect(again.body).toMatchObject({ appVersion: '3.13.0', locale: null, createdAt: registered.body.createdAt });
      expect((await h.api.get('/v1/me/devices', { token: who.token })).body.data.map((d: { token: string }) => d.token)).toEqual([token]);

      const prefs = await h.api.patch('/v1/me/notification-preferences', { picked_up: { push: false }, out_for_delivery: { sms: false } }, { token: who.token });
      expect(prefs.status, prefs.text).toBe(200);
      expect(prefs.body.matrix.picked_up).toEqual({ push: false, sms: false, email: false });
      expect(prefs.body.matrix.out_for_delivery).toEqual({ push: true, sms: false, email: false });
      expect(prefs.body.mandatory).toEqual(['payment_action_required', 'refund_issued', 'pickup_missed']);
      expect((await h.api.get('/v1/me/notification-preferences', { token: who.token })).body).toEqual(prefs.body);

      const orderId = await place();
      const moved = await h.api.post(`/v1/staff/orders/${orderId}/transitions`, { to: 'picked_up', bagCount: 2 }, { token: staff.token });
      expect(moved.status, moved.text).toBe(200);

      // Preferences pick the channels, not the inbox: every event is there, newest first.
      const listed = await inbox(h, who);
      expect(listed.status, listed.text).toBe(200);
      expect(listed.body.unreadCount).toBe(2);
      expect(listed.body.nextCursor).toBeNull();
      expect(listed.body.data.map((n: { type: string; orderId: string }) => [n.type, n.orderId])).toEqual([
        ['picked_up', orderId],
        ['order_confirmed', orderId],
      ]);
      const [pickedUp, confirmed] = listed.body.data;
      // In the account's language (PATCH /v1/me locale 'es'), the same words as the push message.
      expect(pickedUp.body).toContain('2 bolsas');
      expect(confirmed.title).toMatch(/confirmado/i);
      expect(pickedUp.readAt).toBeNull();

      const read = await h.api.post(`/v1/me/notifications/${pickedUp.id}/read`, undefined, { token: who.token });
      expect(read.status, read.text).toBe(204);
      const afterRead = await inbox(h, who);
      expect(afterRead.body.unreadCount).toBe(1);
      const readAt = afterRead.body.data[0].readAt;
      expect(readAt).not.toBeNull();
      // Idempotent: the first readAt stays.
      expect((await h.api.post(`/v1/me/notifications/${pickedUp.id}/read`, undefined, { token: who.token })).status).toBe(204);
      expect((await inbox(h, who)).body.data[0].readAt).toBe(readAt);

      // Pages of one: the cursor walks newest to oldest.
      const first = await inbox(h, who, '?limit=1');
      expect(first.body.data.map((n: { id: string }) => n.id)).toEqual([pickedUp.id]);
      const second = await inbox(h, who, `?limit=1&cursor=${first.body.nextCursor}`);
      expect(second.body.data.map((n: { id: string }) => n.id)).toEqual([confirmed.id]);
      expect(second.body.nextCursor).toBeNull();
      expect(second.body.unreadCount).toBe(1);

      expect((await h.api.post('/v1/me/notifications/read-all', undefined, { token: who.token })).status).toBe(204);
      expect((await inbox(h, who)).body.unreadCount).toBe(0);

      const removed = await h.api.send('DELETE', `/v1/me/devices/${token}`, undefined, { token: who.token });
      expect(removed.status).toBe(204);
      expect((await h.api.send('DELETE', `/v1/me/devices/${token}`, undefined, { token: who.token })).status).toBe(204);
      expect((await h.api.get('/v1/me/devices', { token: who.token })).body.data).toEqual([]);
    });

    it('a token registered to another account moves to the caller; removing never touches another account’s token', async () => {
      const h = harness();
      const [ana, ben] = [await actor(h), await actor(h)];
      const token = fcmToken();
      expect((await h.api.send('PUT', `/v1/me/devices/${token}`, { platform: 'ios' }, { token: ana.token })).status).toBe(201);
      // Ben cannot remove Ana's token: 204, and it is still hers.
      expect((await h.api.send('DELETE', `/v1/me/devices/${token}`, undefined, { token: ben.token })).status).toBe(204);
      expect((await h.sql<{ user_id: string }>('SELECT user_id FROM devices WHERE token = $1', [token]))[0]?.user_id).toBe(ana.userId);
      // Ben signs in on Ana's phone: the token is his now (201: new to him), and Ana no longer lists it.
      const moved = await h.api.send('PUT', `/v1/me/devices/${token}`, { platform: 'ios' }, { token: ben.token });
      expect(moved.status, moved.text).toBe(201);
      expect((await h.api.get('/v1/me/devices', { token: ana.token })).body.data).toEqual([]);
      expect((await h.api.get('/v1/me/devices', { token: ben.token })).body.data.map((d: { token: string }) => d.token)).toEqual([token]);
    });

    it('bad tokens, phones and locales are 422 naming the field; nothing is stored', async () => {
      const h = harness();
      const who = await actor(h);
      for (const bad of ['a'.repeat(4097), 'abc%09def', 'abc%20def', 'abc%00def', 'ab%C3%A9cd', 'abc%2Fdef']) {
        const res = await h.api.send('PUT', `/v1/me/devices/${bad}`, { platform: 'android' }, { token: who.token });
        expect(expectProblem(res, 422, 'validation_failed').errors.map((e: { field: string }) => e.field), bad.slice(0, 12)).toEqual(['param.device']);
      }
      const longest = 'a'.repeat(4096);
      expect((await h.api.send('PUT', `/v1/me/devices/${longest}`, { platform: 'android' }, { token: who.token })).status).toBe(201);
      expectProblem(await h.api.send('PUT', `/v1/me/devices/${fcmToken()}`, { platform: 'windows' }, { token: who.token }), 422, 'validation_failed');
      expect((await h.sql('SELECT token FROM devices WHERE user_id = $1', [who.userId])).length).toBe(1);

      for (const [body, field] of [
        [{ phone: '07700 900123' }, 'body.phone'],
        [{ phone: '+0447700900123' }, 'body.phone'],
        [{ phone: '+4477009001234567' }, 'body.phone'],
        [{ locale: 'not a locale' }, 'body.locale'],
        [{}, 'body'],
      ] as const) {
        const res = await h.api.patch('/v1/me', body, { token: who.token });
        expect(expectProblem(res, 422, 'validation_failed').errors.map((e: { field: string }) => e.field)).toEqual([field]);
      }
      const canonical = await h.api.patch('/v1/me', { locale: 'EN-gb', name: 'Ada' }, { token: who.token });
      expect(canonical.body).toMatchObject({ locale: 'en-GB', name: 'Ada', phone: null });
      const cleared = await h.api.patch('/v1/me', { locale: null }, { token: who.token });
      expect(cleared.body).toMatchObject({ locale: null, name: 'Ada' });
      expect((await h.api.get('/v1/me', { token: who.token })).body).toMatchObject({ locale: null, name: 'Ada', phone: null });
    });

    it('a mandatory type cannot be silenced: 422 preference_required, nothing written', async () => {
      const h = harness();
      const who = await actor(h);
      const patch = (body: unknown) => h.api.patch('/v1/me/notification-preferences', body, { token: who.token });
      // Two channels off is allowed; the third (all off) is refused whole, with the other cell it carried.
      expect((await patch({ refund_issued: { push: false } })).status).toBe(200);
      const refused = expectProblem(await patch({ refund_issued: { email: false }, delivered: { email: false } }), 422, 'preference_required');
      expect(refused.details).toEqual({ types: ['refund_issued'] });
      const stored = await h.sql<{ type: string; channel: string; enabled: boolean }>(
        'SELECT type::text, channel::text, enabled FROM notification_preferences WHERE user_id = $1 ORDER BY type, channel',
        [who.userId],
      );
      expect(stored).toEqual([{ type: 'refund_issued', channel: 'push', enabled: false }]);
      expectProblem(await patch({ payment_action_required: { push: false, sms: false, email: false } }), 422, 'preference_required');
      // Moving the last channel in the same request is fine.
      const moved = await patch({ refund_issued: { email: false, sms: true } });
      expect(moved.status, moved.text).toBe(200);
      expect(moved.body.matrix.refund_issued).toEqual({ push: false, sms: true, email: false });
      expectProblem(await patch({ refund_issued: { mms: true } }), 422, 'validation_failed');
      expectProblem(await patch({ nonsense: { push: true } }), 422, 'validation_failed');
    });

    it('another customer’s notification answers 404 and stays unread; a bad id or cursor is 422', async () => {
      const { h, who, place } = await setup();
      await place();
      const [entry] = (await inbox(h, who)).body.data;
      const other = await actor(h);
      expectProblem(await h.api.post(`/v1/me/notifications/${entry.id}/read`, undefined, { token: other.token }), 404, 'not_found');
      expect((await h.api.post('/v1/me/notifications/read-all', undefined, { token: other.token })).status).toBe(204);
      expect((await inbox(h, who)).body.unreadCount).toBe(1);
      expect((await inbox(h, other)).body).toEqual({ data: [], nextCursor: null, unreadCount: 0 });
      expectProblem(await h.api.post('/v1/me/notifications/0/read', undefined, { token: who.token }), 422, 'validation_failed');
      expectProblem(await h.api.post(`/v1/me/notifications/${'9'.repeat(19)}/read`, undefined, { token: who.token }), 422, 'validation_failed');
      expectProblem(await h.api.post(`/v1/me/notifications/${'9'.repeat(18)}/read`, undefined, { token: who.token }), 404, 'not_found');
      expectProblem(await inbox(h, who, '?cursor=MA'), 422, 'validation_failed'); // "0": not an id this API issues
    });
  });
}
