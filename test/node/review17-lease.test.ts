/**
 * Review 17: the send lease (dispatch.ts SEND_LEASE_MS, 60 s) must outlive the longest send a
 * claim can make, or a second dispatcher re-claims the row while the first is still sending and
 * the message goes out twice (push and SMS have no provider-side dedupe). An FCM send is up to
 * four sequential requests (token, send, 401 → new token, send), each bounded by
 * NOTIFY_TIMEOUT_MS, which the settings accept up to 60 000 ms; then the record statement
 * (DATABASE_TIMEOUT_MS).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { SEND_LEASE_MS } from '../../src/notifications/dispatch.js';
import { TEST_JWT_SECRET } from '../support/harness.js';

describe('review17: send lease vs provider timeouts', () => {
  it('refuses a NOTIFY_TIMEOUT_MS whose worst-case FCM send outlives the claim lease', () => {
    let config: ReturnType<typeof loadConfig> | undefined;
    try {
      config = loadConfig({ APP_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, NOTIFY_TIMEOUT_MS: '30000' });
    } catch {
      return; // refused: fine
    }
    const worstFcmSendMs = 4 * config.notifications.timeoutMs + config.databaseTimeoutMs;
    // Defect: accepted, and the worst case (125 s) is twice the 60 s lease.
    expect(worstFcmSendMs).toBeLessThan(SEND_LEASE_MS);
  });
});
