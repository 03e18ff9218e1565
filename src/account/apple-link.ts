import { decodeJwt } from 'jose';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { exchangeAppleCode } from './apple-tokens.js';
import type { Deps } from '../deps.js';

/**
 * Apple's authorization code → a sealed refresh token (src/account/apple-tokens.ts), for the
 * client id the verified `idToken` was issued to (its `aud`: the app's bundle id or the web
 * Services ID; the code belongs to the same client). Undefined, with a warning logged, when the
 * Apple revoke settings are absent or Apple refuses or cannot be reached: neither a sign-in nor a
 * deletion fails for it.
 */
export async function exchangeForRevocation(deps: Deps, idToken: string, code: string): Promise<string | undefined> {
  const apple = deps.config.appleRevoke;
  if (!apple) {
    deps.logger.warn('apple authorization code ignored: APPLE_TEAM_ID, APPLE_KEY_ID and APPLE_PRIVATE_KEY are not set');
    return undefined;
  }
  const aud = decodeJwt(idToken).aud;
  const clientId = Array.isArray(aud) ? aud[0] : aud;
  if (!clientId) return undefined;
  try {
    return await exchangeAppleCode(apple, deps.config.jwtSecret, clientId, code, deps.clock.now());
  } catch (error) {
    deps.logger.warn('apple authorization code not exchanged', { error: error instanceof Error ? error.message : String(error) });
    return undefined;
  }
}

/**
 * POST /v1/auth/oauth/apple with an `authorizationCode`: keeps the sealed refresh token on the
 * identity (provider apple, `subject`), replacing an older one. One fetch and one statement.
 */
export async function keepAppleRefreshToken(deps: Deps, idToken: string, subject: string, code: string): Promise<void> {
  const sealed = await exchangeForRevocation(deps, idToken, code);
  if (!sealed) return;
  await deps.database.rows(z.object({}), sql`
    UPDATE user_identities SET apple_refresh_token_sealed = ${sealed} WHERE provider = 'apple' AND subject = ${subject}`);
}
