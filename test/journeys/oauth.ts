import { describe, expect, it } from 'vitest';
import { expectProblem } from '../support/client.js';
import type { Harness } from '../support/harness.js';

/**
 * Sign in with Apple and Google on a server with no client ids configured (the shared test
 * setup of both runtimes): what an app sees before an operator sets APPLE_CLIENT_IDS /
 * GOOGLE_CLIENT_IDS, and the body rules. Token verification against a JWKS, linking and account
 * creation: test/node/oauth.test.ts (Node) and test/workers/oauth.test.ts (workerd).
 */
export function oauthJourney(harness: () => Harness) {
  describe('oauth journey (providers not configured)', () => {
    const token = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    for (const provider of ['apple', 'google'] as const) {
      it(`POST /v1/auth/oauth/${provider} answers 503 provider_not_configured with Retry-After`, async () => {
        const res = await harness().api.post(`/v1/auth/oauth/${provider}`, { idToken: token, nonce: 'a-nonce-of-enough-length' });
        expectProblem(res, 503, 'provider_not_configured');
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      });
    }

    it('a body without its nonce, with a short nonce or with unknown fields is 422 validation_failed, naming the field', async () => {
      const { api } = harness();
      const missing = expectProblem(await api.post('/v1/auth/oauth/apple', { idToken: token }), 422, 'validation_failed');
      expect(JSON.stringify(missing.errors)).toContain('nonce');
      expectProblem(await api.post('/v1/auth/oauth/google', { idToken: token, nonce: 'short' }), 422, 'validation_failed');
      expectProblem(await api.post('/v1/auth/oauth/apple', { idToken: token, nonce: 'a-nonce-of-enough-length', email: 'x@example.com' }), 422, 'validation_failed');
    });
  });
}
