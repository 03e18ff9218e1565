/**
 * Review of issue 19: a promo code's window must end after it starts (documented: `validUntil`
 * "must be after validFrom", 422). The rule was checked only when one PATCH sent both fields, so
 * sending them in two PATCHes (or moving one end past the stored other) saved an empty window: a
 * code that can never be redeemed while the admin's screen says it runs. A PATCH whose result
 * would end at or before its start is 422 `validation_failed` on the field it sent, nothing saved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import { actor } from '../support/fixtures.js';
import { createTestApp, type TestApp } from '../support/node-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('PATCH /v1/admin/promo-codes/{id} window', () => {
  it('refuses a window that would end at or before its start, whichever end the PATCH sends', async () => {
    const admin = await actor(t, 'admin');
    const code = `RW-${crypto.randomUUID().slice(0, 8).toUpperCase()}`;
    const created = await t.api.post('/v1/admin/promo-codes', { code, kind: 'percent', value: 1000, validFrom: '2027-01-10T00:00:00Z' }, { token: admin.token });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as string;
    const patch = (body: unknown) => t.api.patch(`/v1/admin/promo-codes/${id}`, body, { token: admin.token });

    const early = expectProblem(await patch({ validUntil: '2027-01-01T00:00:00Z' }), 422, 'validation_failed');
    expect(JSON.stringify(early)).toContain('validUntil');
    expect((await patch({ validUntil: '2027-02-01T00:00:00Z' })).status).toBe(200);
    const late = expectProblem(await patch({ validFrom: '2027-03-01T00:00:00Z' }), 422, 'validation_failed');
    expect(JSON.stringify(late)).toContain('validFrom');
    const [row] = await t.sql<{ from: string; until: string }>(
      `SELECT to_char(valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS "from", to_char(valid_until AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS until FROM promo_codes WHERE id = $1`, [id]);
    expect(row).toEqual({ from: '2027-01-10', until: '2027-02-01' });
    // Clearing one end, or a valid move, still works; an unknown id is still 404.
    expect((await patch({ validFrom: null })).status).toBe(200);
    expect((await patch({ validFrom: '2027-01-20T00:00:00Z', active: false })).status).toBe(200);
    expectProblem(await t.api.patch(`/v1/admin/promo-codes/${crypto.randomUUID()}`, { validUntil: '2020-01-01T00:00:00Z' }, { token: admin.token }), 404, 'not_found');
  });
});
