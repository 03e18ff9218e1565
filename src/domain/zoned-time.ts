import { DomainError } from './errors.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

// Formatters are costly to build and a shop uses one or two zones, so they are kept per zone.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch (error) {
      if (error instanceof RangeError) {
        throw new DomainError('invalid_time_zone', `Unknown time zone ${timeZone}`, { timeZone });
      }
      throw error;
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

/** Offset of the zone from UTC at an instant, in ms (positive east of Greenwich). */
function zoneOffsetMs(instantMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instantMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(
    parts.year ?? NaN,
    (parts.month ?? NaN) - 1,
    parts.day ?? NaN,
    (parts.hour ?? NaN) % 24, // some engines render midnight as 24 even with h23
    parts.minute ?? NaN,
    parts.second ?? NaN,
  );
  // The formatter drops milliseconds, so compare against the whole second.
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

/** Parses a strict 'YYYY-MM-DD' that names a real calendar day, else null. */
export function parseLocalDate(value: string): LocalDate | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    return null;
  }
  return { year, month, day };
}

/** Parses a strict 'HH:MM' (00:00..23:59) into minutes after midnight, else null. */
export function parseWallTime(value: string): number | null {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

/**
 * How a wall-clock time on a local date maps to real instants in a zone:
 * - `unique`: the usual case, one instant;
 * - `repeated`: in the hour a fall-back change repeats, two instants (`earlier` in daylight time);
 * - `skipped`: in a spring-forward gap the clock never shows it; `transition` is the instant the
 *   clock jumped, i.e. the first instant whose local reading is later than this wall time.
 */
export type WallTimeResolution =
  | { kind: 'unique'; instant: Date }
  | { kind: 'repeated'; earlier: Date; later: Date }
  | { kind: 'skipped'; transition: Date };

export function resolveWallTime(date: string, time: string, timeZone: string): WallTimeResolution {
  const day = parseLocalDate(date);
  if (!day) throw new DomainError('invalid_date', `Not a calendar date: ${date}`, { date });
  const minutes = parseWallTime(time);
  if (minutes === null) throw new DomainError('invalid_time', `Not a HH:MM time: ${time}`, { time });
  const wallAsUtc = Date.UTC(day.year, day.month - 1, day.day) + minutes * MINUTE_MS;
  const readingAt = (instant: number) => instant + zoneOffsetMs(instant, timeZone);

  // A day either side brackets any single transition near this wall time.
  const offsetBefore = zoneOffsetMs(wallAsUtc - DAY_MS, timeZone);
  const offsetAfter = zoneOffsetMs(wallAsUtc + DAY_MS, timeZone);
  const offsets = new Set([offsetBefore, zoneOffsetMs(wallAsUtc, timeZone), offsetAfter]);
  const matches = [...new Set([...offsets].map((offset) => wallAsUtc - offset))]
    .filter((instant) => readingAt(instant) === wallAsUtc)
    .sort((a, b) => a - b);
  if (matches.length === 1) return { kind: 'unique', instant: new Date(matches[0]!) };
  if (matches.length > 1) return { kind: 'repeated', earlier: new Date(matches[0]!), later: new Date(matches.at(-1)!) };

  // In a gap the clock jumps over this reading somewhere between these two instants (the offset
  // grew, so `lo` reads before the wall time and `hi` after it). Offsets change on whole seconds.
  let lo = wallAsUtc - Math.max(offsetBefore, offsetAfter);
  let hi = wallAsUtc - Math.min(offsetBefore, offsetAfter);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (readingAt(mid) > wallAsUtc) hi = mid;
    else lo = mid;
  }
  return { kind: 'skipped', transition: new Date(hi) };
}

/**
 * Converts a wall-clock time in an IANA zone to one UTC instant, by the rule slots are generated
 * with (docs/runbook.md, "Slots across clock changes"): a time the clock repeats (fall-back) is
 * its first occurrence, so a window never starts an hour late; a time the clock skips
 * (spring-forward) becomes the instant of the jump, so a window keeps only the part of it that
 * really happens. The mapping never goes backwards, so windows that do not overlap on the wall
 * clock never overlap as instants either.
 */
export function zonedWallTimeToUtc(date: string, time: string, timeZone: string): Date {
  const resolved = resolveWallTime(date, time, timeZone);
  switch (resolved.kind) {
    case 'unique':
      return resolved.instant;
    case 'repeated':
      return resolved.earlier;
    case 'skipped':
      return resolved.transition;
  }
}
