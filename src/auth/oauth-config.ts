import type { RawSettings } from '../config-env.js';

/** Sign in with Apple and Google (README, "Configuration"): src/auth/id-tokens.ts reads it. */
export interface OAuthConfig {
  /** APPLE_CLIENT_IDS and APPLE_JWKS_URL; absent when no client id is set. */
  apple?: OAuthProviderConfig;
  /** GOOGLE_CLIENT_IDS and GOOGLE_JWKS_URL; absent when no client id is set. */
  google?: OAuthProviderConfig;
  /** OAUTH_JWKS_COOLDOWN_SECONDS. */
  jwksCooldownSeconds: number;
}

export interface OAuthProviderConfig {
  /** The accepted `aud` values, at least one. */
  clientIds: string[];
  jwksUrl: string;
}

/**
 * The OAuth providers' settings. A provider is configured when its client ids are set; a JWKS URL
 * that is not https in production is a problem (only the test stand-in is plain http).
 */
export function oauthConfig(raw: RawSettings, production: boolean, problems: string[]): OAuthConfig {
  const provider = (ids: string | undefined, url: string | undefined, urlName: string, defaultUrl: string): OAuthProviderConfig | undefined => {
    if (production && url !== undefined && !url.startsWith('https://')) problems.push(`${urlName}: must be https when APP_ENV=production`);
    const clientIds = (ids ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return clientIds.length > 0 ? { clientIds, jwksUrl: url ?? defaultUrl } : undefined;
  };
  const apple = provider(raw.APPLE_CLIENT_IDS, raw.APPLE_JWKS_URL, 'APPLE_JWKS_URL', 'https://appleid.apple.com/auth/keys');
  const google = provider(raw.GOOGLE_CLIENT_IDS, raw.GOOGLE_JWKS_URL, 'GOOGLE_JWKS_URL', 'https://www.googleapis.com/oauth2/v3/certs');
  return { ...(apple ? { apple } : {}), ...(google ? { google } : {}), jwksCooldownSeconds: raw.OAUTH_JWKS_COOLDOWN_SECONDS };
}
