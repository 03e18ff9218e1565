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
 * Converts a wall-clock time in an IANA zone to the UTC instant. In the spring-forward gap the
 * time is pushed forward by the gap's length (what an unchanged clock would read); in the
 * fall-back overlap the earlier instant is taken, so a window never starts an hour late.
 */
export function zonedWallTimeToUtc(date: string, time: string, timeZone: string): Date {
  const day = parseLocalDate(date);
  if (!day) throw new DomainError('invalid_date', `Not a calendar date: ${date}`, { date });
  const minutes = parseWallTime(time);
  if (minutes === null) throw new DomainError('invalid_time', `Not a HH:MM time: ${time}`, { time });
  const wallAsUtc = Date.UTC(day.year, day.month - 1, day.day) + minutes * MINUTE_MS;

  // A day either side brackets any single transition near this wall time.
  const offsetBefore = zoneOffsetMs(wallAsUtc - DAY_MS, timeZone);
  const offsetAfter = zoneOffsetMs(wallAsUtc + DAY_MS, timeZone);
  const offsets = new Set([offsetBefore, zoneOffsetMs(wallAsUtc, timeZone), offsetAfter]);
  const matches = [...offsets]
    .map((offset) => wallAsUtc - offset)
    .filter((instant) => instant + zoneOffsetMs(instant, timeZone) === wallAsUtc)
    .sort((a, b) => a - b);
  return new Date(matches[0] ?? wallAsUtc - offsetBefore);
}
