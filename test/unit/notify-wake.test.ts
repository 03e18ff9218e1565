import { describe, expect, it } from 'vitest';
import { wakesNotifications } from '../../src/notifications/wake.js';

describe('wakesNotifications: which answers wake the notification consumer on Workers', () => {
  it('a 2xx write on orders, the staff console or the Stripe webhook', () => {
    for (const [method, path] of [
      ['POST', '/v1/orders'],
      ['POST', '/v1/orders/0b7e4a52-3f7d-4c55-9a51-3c1f2b0f7a10/cancel'],
      ['POST', '/v1/staff/orders/0b7e4a52-3f7d-4c55-9a51-3c1f2b0f7a10/transitions'],
      ['POST', '/v1/webhooks/stripe'],
      // Account emails (issue 18).
      ['POST', '/v1/auth/register'],
      ['POST', '/v1/auth/password-reset'],
      ['POST', '/v1/auth/verify-email'],
      ['POST', '/v1/me/email'],
      ['POST', '/v1/me/email-verification'],
    ] as const) {
      expect(wakesNotifications(method, path, 200), path).toBe(true);
      expect(wakesNotifications(method, path, 201), path).toBe(true);
    }
  });

  it('nothing for reads, refusals, sign-in, devices, preferences or look-alike paths', () => {
    expect(wakesNotifications('GET', '/v1/orders', 200)).toBe(false);
    expect(wakesNotifications('POST', '/v1/orders', 422)).toBe(false);
    expect(wakesNotifications('POST', '/v1/orders', 503)).toBe(false);
    expect(wakesNotifications('POST', '/v1/auth/login', 200)).toBe(false);
    expect(wakesNotifications('POST', '/v1/auth/refresh', 200)).toBe(false);
    expect(wakesNotifications('PUT', '/v1/me/devices/abc', 201)).toBe(false);
    expect(wakesNotifications('PATCH', '/v1/me/notification-preferences', 200)).toBe(false);
    expect(wakesNotifications('POST', '/v1/ordersx', 200)).toBe(false);
    expect(wakesNotifications('POST', '/v1/admin/services', 201)).toBe(false);
    // A reset confirmation writes no email; look-alikes of the account paths wake nothing.
    expect(wakesNotifications('POST', '/v1/auth/password-reset/confirm', 200)).toBe(false);
    expect(wakesNotifications('POST', '/v1/me/password', 200)).toBe(false);
    expect(wakesNotifications('POST', '/v1/me/emails', 202)).toBe(false);
  });

  it('reads the path lazily: a read or a refusal never parses its URL (the Worker passes a function)', () => {
    let parsed = 0;
    const path = (p: string) => () => {
      parsed++;
      return p;
    };
    expect(wakesNotifications('GET', path('/v1/orders'), 200)).toBe(false);
    expect(wakesNotifications('POST', path('/v1/orders'), 409)).toBe(false);
    expect(parsed).toBe(0);
    expect(wakesNotifications('POST', path('/v1/orders'), 201)).toBe(true);
    expect(wakesNotifications('POST', path('/v1/auth/login'), 200)).toBe(false);
    expect(parsed).toBe(2);
  });
});
