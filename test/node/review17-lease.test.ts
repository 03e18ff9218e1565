/**
 * Review 17: the send lease (retry-policy.ts SEND_LEASE_MS, was 60 s) must outlive the longest send a
 * claim can make, or a second dispatcher re-claims the row while the first is still sending and
 * the message goes out twice (push and SMS have no provider-side dedupe). An FCM send is up to
 * four sequential requests (token, send, 401 → new token, send), each bounded by
 * NOTIFY_TIMEOUT_MS, which the settings accepted up to 60 000 ms (now NOTIFY_TIMEOUT_MAX_MS); then the record statement
 * (DATABASE_TIMEOUT_MS).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { NOTIFY_TIMEOUT_MAX_MS } from '../../src/config-env.js';
import { DATABASE_TIMEOUT_MAX_MS, MAX_REQUESTS_PER_SEND, SEND_LEASE_MARGIN_MS, SEND_LEASE_MS } from '../../src/notifications/retry-policy.js';
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

  it('covers the largest settings loadConfig accepts: claim + 4 sequential provider requests + record + margin', () => {
    const base = { APP_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET };
    const config = loadConfig({ ...base, NOTIFY_TIMEOUT_MS: String(NOTIFY_TIMEOUT_MAX_MS), DATABASE_TIMEOUT_MS: String(DATABASE_TIMEOUT_MAX_MS) });
    expect(config.notifications.timeoutMs).toBe(NOTIFY_TIMEOUT_MAX_MS);
    expect(config.databaseTimeoutMs).toBe(DATABASE_TIMEOUT_MAX_MS);
    expect(MAX_REQUESTS_PER_SEND).toBeGreaterThanOrEqual(4);
    expect(SEND_LEASE_MARGIN_MS).toBeGreaterThanOrEqual(10_000);
    const worst = 2 * config.databaseTimeoutMs + 4 * config.notifications.timeoutMs;
    expect(SEND_LEASE_MS).toBeGreaterThanOrEqual(worst + SEND_LEASE_MARGIN_MS);
    // One more millisecond of either bound is refused, so no accepted setting outgrows the lease.
    expect(() => loadConfig({ ...base, NOTIFY_TIMEOUT_MS: String(NOTIFY_TIMEOUT_MAX_MS + 1) })).toThrow(/NOTIFY_TIMEOUT_MS/);
    expect(() => loadConfig({ ...base, DATABASE_TIMEOUT_MS: String(DATABASE_TIMEOUT_MAX_MS + 1) })).toThrow(/DATABASE_TIMEOUT_MS/);
  });
});
