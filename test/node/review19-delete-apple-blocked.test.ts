/**
 * Review of issue 18: DELETE /v1/me with Sign in with Apple exchanged the `authorizationCode` at
 * Apple BEFORE it looked at what blocks the erasure. An account with an open order answered 409
 * `account_has_open_orders`, but Apple had already issued a refresh token for the code, which was
 * then dropped: never stored, never revoked (App Store guideline 5.1.1(v) asks for revocation),
 * and the single-use code was spent. A refused deletion must not call Apple at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import { payOnDeliveryOrder } from '../support/fixtures.js';
import { createTestApp, type TestApp } from '../support/node-app.js';
import { APPLE_AUD, startAppleWorld, type AppleWorld } from '../support/apple-world.js';
import type { AppleAuthStandIn } from '../support/stand-ins/apple-auth.js';

let world: AppleWorld;
let apple: AppleAuthStandIn;
let t: TestApp;

beforeAll(async () => {
  world = await startAppleWorld();
  ({ apple } = world);
  t = await createTestApp({ env: world.env });
});
afterAll(async () => {
  await t?.close();
  await world?.close();
});

const idToken = (s: string, raw: string) => world.idToken(s, raw);

describe('DELETE /v1/me refused for an open order, with an Apple authorization code', () => {
  it('answers 409 without exchanging the code at Apple', async () => {
    const s = `001.review.${Date.now()}`;
    const first = `nonce-${crypto.randomUUID()}`;
    const signIn = await t.api.post('/v1/auth/oauth/apple', { idToken: await idToken(s, first), nonce: first });
    expect(signIn.status, signIn.text).toBe(201);
    const who = { email: `${s}@privaterelay.appleid.com`, userId: signIn.body.user.id as string, token: signIn.body.accessToken as string };
    await payOnDeliveryOrder(t, who);
    const issued = apple.refreshTokens().length;

    const raw = `nonce-${crypto.randomUUID()}`;
    const res = await t.api.send('DELETE', '/v1/me', { provider: 'apple', idToken: await idToken(s, raw), nonce: raw, authorizationCode: apple.issueCode(APPLE_AUD) }, { token: who.token });
    expectProblem(res, 409, 'account_has_open_orders');
    expect(apple.refreshTokens().length).toBe(issued);
  });
});
