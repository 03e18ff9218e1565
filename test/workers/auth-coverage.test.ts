/**
 * The auth coverage check of test/node/auth-coverage.test.ts, against the Worker inside workerd
 * (the same /openapi.json, the neon-http driver for the role checks). The router's own table is
 * not reachable through SELF, so "every served route is documented" is checked on Node only;
 * the negative cases (a faulty route added to a copy of the app) are Node-only for the same reason.
 */
import { describe, expect, it } from 'vitest';
import { authActors, authViolations } from '../support/auth-coverage.js';
import { workerHarness } from './support.js';

describe('auth coverage from /openapi.json (workerd)', () => {
  it('every secured operation refuses missing and bad tokens with 401, and lower roles with 403; nothing is public by accident', async () => {
    const report = await authViolations(workerHarness, await authActors(workerHarness));
    expect(report.violations).toEqual([]);
    expect(report.operations).toBeGreaterThanOrEqual(40);
    expect(report.secured).toBeGreaterThanOrEqual(30);
    expect(report.requests).toBeGreaterThanOrEqual(report.secured * 8);
  });
});
