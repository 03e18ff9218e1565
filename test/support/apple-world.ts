/**
 * Sign in with Apple end to end for Node tests: the JWKS stand-in that signs ID tokens, Apple's
 * /auth/token and /auth/revoke stand-in, the app settings that point at both (revocation
 * configured), and an ID token for a subject and a raw nonce (the app sends SHA-256 of it, as
 * Apple's docs ask).
 */
import { createHash } from 'node:crypto';
import { startAppleAuthStandIn, type AppleAuthStandIn } from './stand-ins/apple-auth.js';
import { startJwksStandIn, type JwksStandIn } from './stand-ins/jwks.js';

export const APPLE_AUD = 'com.example.laundry';

export interface AppleWorld {
  jwks: JwksStandIn;
  apple: AppleAuthStandIn;
  /** Settings for createTestApp({ env }). */
  env: Record<string, string>;
  /** An Apple ID token for `sub` (private-relay email, verified) with the nonce hash of `rawNonce`. */
  idToken(sub: string, rawNonce: string, opts?: Parameters<JwksStandIn['sign']>[1]): Promise<string>;
  close(): Promise<void>;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export async function startAppleWorld(): Promise<AppleWorld> {
  const jwks = await startJwksStandIn('apple');
  const apple = await startAppleAuthStandIn({ clientIds: [APPLE_AUD] });
  return {
    jwks,
    apple,
    env: {
      APPLE_CLIENT_IDS: APPLE_AUD,
      APPLE_JWKS_URL: jwks.url,
      OAUTH_JWKS_COOLDOWN_SECONDS: '0',
      APPLE_TEAM_ID: apple.teamId,
      APPLE_KEY_ID: apple.keyId,
      APPLE_PRIVATE_KEY: apple.privateKeyPem,
      APPLE_AUTH_URL: apple.url,
    },
    idToken: (sub, rawNonce, opts) => jwks.sign({ sub, aud: APPLE_AUD, nonce: sha256(rawNonce), email: `${sub}@privaterelay.appleid.com`, email_verified: true }, opts),
    close: async () => {
      await jwks.close();
      await apple.close();
    },
  };
}
