import { z } from 'zod';

/**
 * Apple token revocation settings (README, "Configuration"; docs/runbook.md, "Account erasure
 * tasks"): with all three of APPLE_TEAM_ID, APPLE_KEY_ID and APPLE_PRIVATE_KEY set, Sign in with
 * Apple exchanges the app's authorization code for a refresh token (kept sealed) and account
 * deletion revokes it (src/account/apple-tokens.ts). Without them, nothing is exchanged and the
 * revoke task of a deletion is marked `skipped` with a warning; a deletion never fails for it.
 */
export interface AppleRevokeConfig {
  /** APPLE_TEAM_ID: the client secret's `iss` (10 characters). */
  teamId: string;
  /** APPLE_KEY_ID: the Sign in with Apple key's id, the client secret's `kid`. */
  keyId: string;
  /** APPLE_PRIVATE_KEY: the key's .p8 file (PKCS#8 PEM, P-256); `\n` escapes are accepted. */
  privateKeyPem: string;
  /** APPLE_AUTH_URL: Apple's base (https://appleid.apple.com); tests point it at a stand-in. */
  authUrl: string;
}

const rawSchema = z.object({
  APPLE_TEAM_ID: z.string().trim().regex(/^[A-Z0-9]{10}$/, 'must be the 10-character Apple team id').optional(),
  APPLE_KEY_ID: z.string().trim().regex(/^[A-Z0-9]{10}$/, 'must be the 10-character key id').optional(),
  APPLE_PRIVATE_KEY: z.string().optional(),
  APPLE_AUTH_URL: z.string().url().optional(),
});

/** Parses the settings into `problems` (each starting with the variable's name); undefined when not configured. */
export function appleRevokeConfig(env: Record<string, string | undefined>, production: boolean, problems: string[]): AppleRevokeConfig | undefined {
  const parsed = rawSchema.safeParse(env);
  if (!parsed.success) {
    for (const i of parsed.error.issues) problems.push(`${i.path.join('.')}: ${i.message}`);
    return undefined;
  }
  const raw = parsed.data;
  if (production && raw.APPLE_AUTH_URL) problems.push('APPLE_AUTH_URL: must not be set when APP_ENV=production');
  const set = [raw.APPLE_TEAM_ID, raw.APPLE_KEY_ID, raw.APPLE_PRIVATE_KEY].filter((v) => v !== undefined && v !== '').length;
  if (set === 0) return undefined;
  if (set < 3) {
    problems.push('APPLE_TEAM_ID: APPLE_TEAM_ID, APPLE_KEY_ID and APPLE_PRIVATE_KEY are set together or not at all');
    return undefined;
  }
  const pem = raw.APPLE_PRIVATE_KEY!.replace(/\\n/g, '\n').trim();
  if (!/^-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----$/.test(pem)) {
    problems.push('APPLE_PRIVATE_KEY: must be the .p8 file’s PEM text (BEGIN PRIVATE KEY)');
    return undefined;
  }
  return { teamId: raw.APPLE_TEAM_ID!, keyId: raw.APPLE_KEY_ID!, privateKeyPem: pem, authUrl: (raw.APPLE_AUTH_URL ?? 'https://appleid.apple.com').replace(/\/$/, '') };
}
