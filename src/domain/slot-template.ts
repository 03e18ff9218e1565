/**
 * Weekly slot templates and their expansion into concrete slots. Pure: no I/O.
 *
 * Clock changes (the rule; also in docs/runbook.md, "Slots across clock changes"): a window is
 * wall-clock times on the zone's local calendar, turned into instants by `zonedWallTimeToUtc`.
 * - An end point the clock skips (spring-forward gap) moves to the instant of the jump: the slot
 *   keeps the part of the window that really happens. A window wholly inside the gap (a Sunday
 *   01:00-02:00 in London on the last Sunday of March) has nothing left: it is not created that
 *   day and is reported in `skipped` with reason `nonexistent_local_time`. Moving it an hour
 *   later instead would put it where the shop did not staff it, and would collide with the next
 *   window.
 * - An end point the clock repeats (fall-back) is its first occurrence, so a window never starts
 *   an hour late; a window that runs to the end of the repeated hour also covers its second pass.
 * Both mappings never go backwards in time, so windows that do not overlap on the wall clock
 * never overlap as slots, and every generated slot has a positive length. Windows with an end
 * point moved are listed in `adjusted`.
 */
import { DomainError } from './errors.js';
import type { SlotKind } from './slots.js';
import { DAY_MS, assertTimeZone, parseLocalDate, parseWallTime, resolveWallTime } from './zoned-time.js';

export const MAX_SLOT_CAPACITY = 10_000;
export const MAX_CUTOFF_MINUTES = 7 * 24 * 60;
export const MAX_GENERATION_DAYS = 62;

export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export interface SlotWindow {
  /** 0 = Sunday. */
  weekday: Weekday;
  /** Local wall-clock 'HH:MM'. */
  start: string;
  end: string;
  kind: SlotKind;
  capacity: number;
}

export interface SlotTemplate {
  zoneId: string;
  /** IANA name, e.g. 'Europe/London'. */
  timeZone: string;
  cutoffMinutes: number;
  windows: SlotWindow[];
}

export interface GeneratedSlot {
  zoneId: string;
  kind: SlotKind;
  startsAt: Date;
  endsAt: Date;
  capacity: number;
  cutoffMinutes: number;
}

/** One template window on one local date. */
export interface WindowOnDate {
  date: string;
  kind: SlotKind;
  start: string;
  end: string;
}

export interface SlotPlan {
  /** By start, then kind. */
  slots: GeneratedSlot[];
  /** Windows that do not happen on that date: the clock skips all of them. */
  skipped: Array<WindowOnDate & { reason: 'nonexistent_local_time' }>;
  /**
   * Windows created with an end point moved by a clock change: `clipped_by_gap` (shorter than
   * usual), `repeated_hour` (first occurrence taken; may be longer than usual).
   */
  adjusted: Array<WindowOnDate & { reason: 'clipped_by_gap' | 'repeated_hour'; startsAt: Date; endsAt: Date }>;
}

function validateTemplate(template: SlotTemplate): void {
  assertTimeZone(template.timeZone);
  const invalid = (message: string, details: Record<string, unknown>) =>
    new DomainError('invalid_slot_template', message, details);
  const { cutoffMinutes } = template;
  if (!Number.isSafeInteger(cutoffMinutes) || cutoffMinutes < 0 || cutoffMinutes > MAX_CUTOFF_MINUTES) {
    throw invalid(`cutoffMinutes must be an integer 0..${MAX_CUTOFF_MINUTES}`, { cutoffMinutes });
  }
  const seen = new Set<string>();
  template.windows.forEach((window, index) => {
    if (!Number.isInteger(window.weekday) || window.weekday < 0 || window.weekday > 6) {
      throw invalid('weekday must be 0 (Sunday) to 6', { index, weekday: window.weekday });
    }
    if (window.kind !== 'pickup' && window.kind !== 'delivery') {
      throw invalid('kind must be pickup or delivery', { index, kind: window.kind });
    }
    const start = parseWallTime(window.start);
    const end = parseWallTime(window.end);
    if (start === null || end === null) throw invalid('start and end must be HH:MM', { index });
    if (end <= start) throw invalid('end must be after start', { index, start: window.start, end: window.end });
    const { capacity } = window;
    if (!Number.isSafeInteger(capacity) || capacity < 1 || capacity > MAX_SLOT_CAPACITY) {
      throw invalid(`capacity must be an integer 1..${MAX_SLOT_CAPACITY}`, { index, capacity });
    }
    const key = `${window.weekday}|${window.kind}|${window.start}`;
    if (seen.has(key)) throw invalid('two windows share weekday, kind and start', { index });
    seen.add(key);
  });
}

/**
 * Expands a weekly template into concrete slots for a date range (inclusive, at most
 * `MAX_GENERATION_DAYS`), skipping closed dates. Dates are the zone's local calendar dates, so a
 * 09:00 window stays at 09:00 local on both sides of a DST change; see the module comment for
 * windows that meet a clock change. Only a bad template or range throws (`DomainError`, 422):
 * a clock change never does, so one odd window never cancels the rest.
 */
export function planSlots(
  template: SlotTemplate,
  range: { from: string; to: string },
  closedDates: readonly string[],
): SlotPlan {
  const from = parseLocalDate(range.from);
  const to = parseLocalDate(range.to);
  if (!from || !to) throw new DomainError('invalid_range', 'from and to must be YYYY-MM-DD dates', range);
  const fromMs = Date.UTC(from.year, from.month - 1, from.day);
  const toMs = Date.UTC(to.year, to.month - 1, to.day);
  if (toMs < fromMs) throw new DomainError('invalid_range', 'to is before from', range);
  if (toMs - fromMs > MAX_GENERATION_DAYS * DAY_MS) {
    throw new DomainError('invalid_range', `A range may span at most ${MAX_GENERATION_DAYS} days`, range);
  }
  for (const closed of closedDates) {
    if (!parseLocalDate(closed)) {
      throw new DomainError('invalid_date', `Not a calendar date: ${closed}`, { date: closed });
    }
  }
  validateTemplate(template);

  const closed = new Set(closedDates);
  const plan: SlotPlan = { slots: [], skipped: [], adjusted: [] };
  for (let dayMs = fromMs; dayMs <= toMs; dayMs += DAY_MS) {
    const date = new Date(dayMs).toISOString().slice(0, 10);
    if (closed.has(date)) continue;
    const weekday = new Date(dayMs).getUTCDay();
    for (const window of template.windows) {
      if (window.weekday !== weekday) continue;
      const start = resolveWallTime(date, window.start, template.timeZone);
      const end = resolveWallTime(date, window.end, template.timeZone);
      const instant = (r: typeof start) => (r.kind === 'unique' ? r.instant : r.kind === 'repeated' ? r.earlier : r.transition);
      const [startsAt, endsAt] = [instant(start), instant(end)];
      const onDate: WindowOnDate = { date, kind: window.kind, start: window.start, end: window.end };
      // Both ends map to the jump only when the clock skips the whole window; else they stay ordered.
      if (endsAt.getTime() <= startsAt.getTime()) {
        plan.skipped.push({ ...onDate, reason: 'nonexistent_local_time' });
        continue;
      }
      plan.slots.push({
        zoneId: template.zoneId,
        kind: window.kind,
        startsAt,
        endsAt,
        capacity: window.capacity,
        cutoffMinutes: template.cutoffMinutes,
      });
      const kinds = [start.kind, end.kind];
      const reason = kinds.includes('skipped') ? 'clipped_by_gap' : kinds.includes('repeated') ? 'repeated_hour' : null;
      if (reason) plan.adjusted.push({ ...onDate, reason, startsAt, endsAt });
    }
  }
  plan.slots.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime() || a.kind.localeCompare(b.kind));
  return plan;
}

/** The slots of `planSlots`, for callers that do not report skipped or adjusted windows. */
export function generateSlots(
  template: SlotTemplate,
  range: { from: string; to: string },
  closedDates: readonly string[],
): GeneratedSlot[] {
  return planSlots(template, range, closedDates).slots;
}
