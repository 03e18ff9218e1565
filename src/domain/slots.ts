import { DomainError } from './errors.js';
import {
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  assertTimeZone,
  parseLocalDate,
  parseWallTime,
  zonedWallTimeToUtc,
} from './zoned-time.js';

export { zonedWallTimeToUtc } from './zoned-time.js';

export type SlotKind = 'pickup' | 'delivery';

export interface Zone {
  id: string;
  postcodePrefixes: string[];
  active: boolean;
}

export interface SlotState {
  id: string;
  zoneId: string;
  kind: SlotKind;
  startsAt: Date;
  endsAt: Date;
  capacity: number;
  reserved: number;
  /** Booking closes this many minutes before startsAt. */
  cutoffMinutes: number;
  closed: boolean;
}

export type SlotAvailability =
  | { bookable: true; remaining: number }
  | { bookable: false; reason: 'past_cutoff' | 'full' | 'closed' };

export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export interface SlotWindow {
  /** 0 = Sunday. */
  weekday: Weekday;
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

export const MAX_POSTCODE_LENGTH = 10;
export const MAX_SLOT_CAPACITY = 10_000;
export const MAX_CUTOFF_MINUTES = 7 * 24 * 60;
export const MAX_GENERATION_DAYS = 62;

function stripPostcode(raw: string): string {
  return raw.replace(/\s+/g, '').toUpperCase();
}

/** Postcodes are stored without spaces so 'sw1a 1aa' and 'SW1A1AA' are the same address. */
export function normalizePostcode(raw: string): string {
  const postcode = typeof raw === 'string' ? stripPostcode(raw) : '';
  if (postcode === '' || postcode.length > MAX_POSTCODE_LENGTH || !/^[A-Z0-9]+$/.test(postcode)) {
    throw new DomainError('invalid_postcode', 'Postcode must be 1-10 letters or digits', { postcode: raw });
  }
  return postcode;
}

/**
 * Longest prefix wins so a narrower zone can carve an area out of a broader one. Equal-length
 * matches are broken by zone id so the answer does not depend on the order zones were loaded.
 */
export function matchZone(postcode: string, zones: readonly Zone[]): { zoneId: string; prefix: string } | null {
  const normalised = normalizePostcode(postcode);
  let best: { zoneId: string; prefix: string } | null = null;
  for (const zone of zones) {
    if (!zone.active) continue;
    for (const rawPrefix of zone.postcodePrefixes) {
      const prefix = stripPostcode(rawPrefix);
      // An empty prefix would silently cover every postcode in the country.
      if (prefix === '' || !normalised.startsWith(prefix)) continue;
      const better =
        best === null ||
        prefix.length > best.prefix.length ||
        (prefix.length === best.prefix.length && zone.id < best.zoneId);
      if (better) best = { zoneId: zone.id, prefix };
    }
  }
  return best;
}

export function slotAvailability(slot: SlotState, now: Date): SlotAvailability {
  if (slot.closed) return { bookable: false, reason: 'closed' };
  const cutoffAt = slot.startsAt.getTime() - slot.cutoffMinutes * MINUTE_MS;
  if (now.getTime() >= cutoffAt) return { bookable: false, reason: 'past_cutoff' };
  const remaining = slot.capacity - slot.reserved;
  if (remaining <= 0) return { bookable: false, reason: 'full' };
  return { bookable: true, remaining };
}

export function checkSlotPair(input: {
  pickup: SlotState;
  delivery: SlotState;
  zoneId: string;
  turnaroundHours: number;
  now: Date;
}): void {
  const { pickup, delivery, zoneId } = input;
  for (const [which, slot] of [['pickup', pickup], ['delivery', delivery]] as const) {
    if (slot.kind !== which) {
      throw new DomainError('slot_kind_mismatch', `The ${which} slot is a ${slot.kind} slot`, {
        slot: which,
        slotId: slot.id,
        kind: slot.kind,
      });
    }
    if (slot.zoneId !== zoneId) {
      throw new DomainError('slot_zone_mismatch', `The ${which} slot does not serve this address's zone`, {
        slot: which,
        slotId: slot.id,
        slotZoneId: slot.zoneId,
        zoneId,
      });
    }
  }
  if (!Number.isFinite(input.turnaroundHours) || input.turnaroundHours < 0) {
    throw new RangeError('turnaroundHours must be a non-negative finite number');
  }
  const earliestDelivery = pickup.endsAt.getTime() + input.turnaroundHours * HOUR_MS;
  if (delivery.startsAt.getTime() < earliestDelivery) {
    throw new DomainError('delivery_too_early', 'The delivery slot starts before the laundry can be ready', {
      earliestDeliveryStart: new Date(earliestDelivery).toISOString(),
      turnaroundHours: input.turnaroundHours,
    });
  }
  for (const [which, slot] of [['pickup', pickup], ['delivery', delivery]] as const) {
    const availability = slotAvailability(slot, input.now);
    if (!availability.bookable) {
      throw new DomainError('slot_unavailable', `The ${which} slot cannot be booked: ${availability.reason}`, {
        slot: which,
        slotId: slot.id,
        reason: availability.reason,
      });
    }
  }
}

// ---- weekly template ---------------------------------------------------------------------------

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
 * Expands a weekly template into concrete slots for a date range. Dates are the zone's local
 * calendar dates, so a 09:00 window stays at 09:00 local on both sides of a DST change.
 */
export function generateSlots(
  template: SlotTemplate,
  range: { from: string; to: string },
  closedDates: readonly string[],
): GeneratedSlot[] {
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
  const slots: GeneratedSlot[] = [];
  for (let dayMs = fromMs; dayMs <= toMs; dayMs += DAY_MS) {
    const date = new Date(dayMs).toISOString().slice(0, 10);
    if (closed.has(date)) continue;
    const weekday = new Date(dayMs).getUTCDay();
    for (const window of template.windows) {
      if (window.weekday !== weekday) continue;
      slots.push({
        zoneId: template.zoneId,
        kind: window.kind,
        startsAt: zonedWallTimeToUtc(date, window.start, template.timeZone),
        endsAt: zonedWallTimeToUtc(date, window.end, template.timeZone),
        capacity: window.capacity,
        cutoffMinutes: template.cutoffMinutes,
      });
    }
  }
  return slots.sort(
    (a, b) => a.startsAt.getTime() - b.startsAt.getTime() || a.kind.localeCompare(b.kind),
  );
}
