import { z } from 'zod';

/** RECURRING_DAYS_AHEAD bounds: 0 = the same day only; a fortnight at most (a biweekly cadence). */
export const RECURRING_DAYS_AHEAD_MAX = 14;

/** Recurring pickups' settings (README, "Configuration"), wired into src/config.ts. */
export interface RecurringConfig {
  /** RECURRING_DAYS_AHEAD: the scheduled job creates an occurrence's order this many local days before its date (default 2). */
  daysAhead: number;
}

const Schema = z.object({
  RECURRING_DAYS_AHEAD: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === undefined || v === '' ? 2 : Number(v)))
    .pipe(z.number().int().min(0).max(RECURRING_DAYS_AHEAD_MAX, `must be an integer between 0 and ${RECURRING_DAYS_AHEAD_MAX}`)),
});

/** Parses the settings from the environment; a bad value is pushed onto `problems` (the default is kept). */
export function recurringConfig(env: Record<string, string | undefined>, problems: string[]): RecurringConfig {
  const parsed = Schema.safeParse(env);
  if (parsed.success) return { daysAhead: parsed.data.RECURRING_DAYS_AHEAD };
  for (const issue of parsed.error.issues) problems.push(`RECURRING_DAYS_AHEAD: ${issue.message}`);
  return { daysAhead: 2 };
}
