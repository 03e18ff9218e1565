/**
 * Recurring pickups: which local dates a schedule has an occurrence on. Pure (no I/O, no clock of
 * its own): the caller passes `now`.
 *
 * Dates are local calendar dates ('YYYY-MM-DD') in the zone's IANA time zone, and date arithmetic
 * is calendar arithmetic (a week is 7 calendar days, whatever the clock does), so a clock change
 * never moves an occurrence to another day. Time zones matter in two places only: which local date
 * "today" is, and whether today's occurrence has already begun (its pickup start, a wall time
 * resolved with `zonedWallTimeToUtc`, the same rule slots are generated with).
 *
 * Rules (issue 19, "Recurring pickups"):
 * - weekly: the anchor date (the first occurrence) and every 7 days after it;
 * - biweekly: the anchor and every 14 days after it (the parity is the anchor's week, never the
 *   calendar's week number, so it survives year ends and 53-week years);
 * - never before the anchor, never in the past (a date before today, or today once the pickup
 *   window has started), never on a skipped date; a paused schedule has none.
 */
import { DomainError } from './errors.js';
import type { Weekday } from './slot-template.js';
import { DAY_MS, parseLocalDate, zonedWallTimeToUtc } from './zoned-time.js';

export const CADENCES = ['weekly', 'biweekly'] as const;
export type Cadence = (typeof CADENCES)[number];

export const SCHEDULE_STATUSES = ['active', 'paused'] as const;
export type ScheduleStatus = (typeof SCHEDULE_STATUSES)[number];

/** How far ahead an occurrence list may look, in days: a bound on work per call. */
export const MAX_HORIZON_DAYS = 366;

export interface RecurrenceRule {
  cadence: Cadence;
  /** The first occurrence, local date. Its weekday is the schedule's weekday. */
  anchorDate: string;
  /** Local 'HH:MM' the pickup window starts at. */
  pickupStart: string;
  /** IANA time zone of the zone that serves the address. */
  timeZone: string;
  status: ScheduleStatus;
  /** Local dates with no occurrence (POST …/skip). */
  skippedDates: readonly string[];
}

const CADENCE_DAYS: Record<Cadence, number> = { weekly: 7, biweekly: 14 };

function dayNumber(date: string): number {
  const d = parseLocalDate(date);
  if (!d) throw new DomainError('invalid_date', `Not a calendar date: ${date}`, { date });
  return Date.UTC(d.year, d.month - 1, d.day) / DAY_MS;
}

function fromDayNumber(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

/** `date` plus `days` calendar days (negative goes back). */
export function addDays(date: string, days: number): string {
  return fromDayNumber(dayNumber(date) + days);
}

/** 0 = Sunday, as slot templates count. */
export function weekdayOf(date: string): Weekday {
  return (((dayNumber(date) % 7) + 11) % 7) as Weekday; // 1970-01-01 (day 0) was a Thursday
}

const dateFormatters = new Map<string, Intl.DateTimeFormat>();

/** The local calendar date of an instant in `timeZone`. */
export function localDateOf(instant: Date, timeZone: string): string {
  let f = dateFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dateFormatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(instant).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/** Whether `date` is one of the rule's dates by cadence alone (on or after the anchor, right parity). */
export function onCadence(rule: Pick<RecurrenceRule, 'cadence' | 'anchorDate'>, date: string): boolean {
  const offset = dayNumber(date) - dayNumber(rule.anchorDate);
  return offset >= 0 && offset % CADENCE_DAYS[rule.cadence] === 0;
}

/**
 * The rule's occurrences from `now` (local today in the rule's zone) up to and including the local
 * date `until`, ascending, at most `limit` of them. Skipped dates are left out; a paused rule has
 * none; today's is left out once its pickup window has started (`now` at or after the pickup
 * start, DST-resolved). Throws DomainError `invalid_date` for a malformed date.
 */
export function occurrencesUntil(rule: RecurrenceRule, now: Date, until: string, limit = MAX_HORIZON_DAYS): string[] {
  if (rule.status !== 'active') return [];
  const today = localDateOf(now, rule.timeZone);
  const step = CADENCE_DAYS[rule.cadence];
  const anchor = dayNumber(rule.anchorDate);
  const last = Math.min(dayNumber(until), dayNumber(today) + MAX_HORIZON_DAYS);
  // The first date on cadence that is not before today.
  const fromDay = Math.max(anchor, anchor + Math.ceil((dayNumber(today) - anchor) / step) * step);
  const skipped = new Set(rule.skippedDates);
  const out: string[] = [];
  for (let n = fromDay; n <= last && out.length < limit; n += step) {
    const date = fromDayNumber(n);
    if (skipped.has(date)) continue;
    if (date === today && zonedWallTimeToUtc(date, rule.pickupStart, rule.timeZone).getTime() <= now.getTime()) continue;
    out.push(date);
  }
  return out;
}

/** The next `count` occurrences from `now` (within MAX_HORIZON_DAYS). */
export function nextOccurrences(rule: RecurrenceRule, now: Date, count: number): string[] {
  return occurrencesUntil(rule, now, addDays(localDateOf(now, rule.timeZone), MAX_HORIZON_DAYS), count);
}

/** The occurrences the scheduled job creates now: from today through today + `daysAhead` (local dates). */
export function dueOccurrences(rule: RecurrenceRule, now: Date, daysAhead: number): string[] {
  return occurrencesUntil(rule, now, addDays(localDateOf(now, rule.timeZone), daysAhead));
}
