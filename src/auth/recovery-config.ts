import { z } from 'zod';

/**
 * Settings of account recovery (issue 18: password reset, email verification), parsed apart from
 * src/config.ts, which only calls `recoveryConfig` and stores the result as `config.recovery`.
 *
 * APP_LINK_BASE: where the app's deep links start (a universal link / app link domain in
 * production, e.g. `https://app.example.com`); the emails link to `<APP_LINK_BASE>/reset-password?token=…`
 * and `<APP_LINK_BASE>/verify-email?token=…`. Default `laundry://app` (the app's custom scheme:
 * development). Must be https in production when set; no trailing slash is kept.
 */
export interface RecoveryConfig {
  appLinkBase: string;
}

export const DEFAULT_APP_LINK_BASE = 'laundry://app';

const RecoveryEnv = z.object({
  APP_LINK_BASE: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : undefined))
    .pipe(z.url({ message: 'must be a URL such as https://app.example.com' }).optional()),
});

/** Parses the recovery settings from the environment, adding a message per bad one to `problems`. */
export function recoveryConfig(env: Record<string, string | undefined>, production: boolean, problems: string[]): RecoveryConfig {
  const parsed = RecoveryEnv.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
    return { appLinkBase: DEFAULT_APP_LINK_BASE };
  }
  const base = parsed.data.APP_LINK_BASE;
  if (production && base !== undefined && !base.startsWith('https://')) problems.push('APP_LINK_BASE: must be https when APP_ENV=production');
  return { appLinkBase: (base ?? DEFAULT_APP_LINK_BASE).replace(/\/+$/, '') };
}
