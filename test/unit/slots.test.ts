import { describe, it, expect } from 'vitest';
import { DomainError, type DomainErrorCode } from '../../src/domain/errors.js';
import {
  checkSlotPair,
  generateSlots,
  matchZone,
  normalizePostcode,
  slotAvailability,
  zonedWallTimeToUtc,
  type SlotState,
  type SlotTemplate,
} from '../../src/domain/slots.js';

function expectCode(fn: () => unknown, code: DomainErrorCode): DomainError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(code);
    return error as DomainError;
  }
  throw new Error(`expected DomainError ${code}`);
}

const iso = (date: Date) => date.toISOString();

describe('normalizePostcode', () => {
  it('trims, uppercases and removes inner whitespace', () => {
    expect(normalizePostcode('  sw1a 1aa ')).toBe('SW1A1AA');
    expect(normalizePostcode('ec1\tv  9nd')).toBe('EC1V9ND');
    expect(normalizePostcode('1234567890')).toBe('1234567890');
  });

  it.each(['', '   ', 'SW1A-1AA', 'é1', '12345678901'])('rejects %j', (raw) => {
    expectCode(() => normalizePostcode(raw), 'invalid_postcode');
  });
});

describe('matchZone', () => {
  const REAL = { synthetic: false };
  const zones = [
    { id: 'z_london', postcodePrefixes: ['SW', 'EC'], active: true, synthetic: false },
    { id: 'z_sw1', postcodePrefixes: ['sw1 '], active: true, synthetic: false },
    { id: 'z_sw1a_old', postcodePrefixes: ['SW1A'], active: false, synthetic: false },
    { id: 'z_blank', postcodePrefixes: ['', '  '], active: true, synthetic: false },
  ];

  it('picks the longest matching prefix among active zones', () => {
    expect(matchZone('sw1a 1aa', zones, REAL)).toEqual({ zoneId: 'z_sw1', prefix: 'SW1' });
    expect(matchZone('SW9 8AB', zones, REAL)).toEqual({ zoneId: 'z_london', prefix: 'SW' });
    expect(matchZone('ec1v9nd', zones, REAL)).toEqual({ zoneId: 'z_london', prefix: 'EC' });
  });

  it('returns null outside every zone, and never matches on a blank prefix', () => {
    expect(matchZone('N1 9GU', zones, REAL)).toBeNull();
    expect(matchZone('SW1A1AA', [zones[2]!, zones[3]!], REAL)).toBeNull();
  });

  it('breaks equal-length ties by zone id, whatever the input order', () => {
    const a = { id: 'z_a', postcodePrefixes: ['N1'], active: true, synthetic: false };
    const b = { id: 'z_b', postcodePrefixes: ['N1'], active: true, synthetic: false };
    expect(matchZone('N1 9GU', [b, a], REAL)?.zoneId).toBe('z_a');
    expect(matchZone('N1 9GU', [a, b], REAL)?.zoneId).toBe('z_a');
  });

  it('rejects an invalid postcode', () => {
    expectCode(() => matchZone('??', zones, REAL), 'invalid_postcode');
  });
});

const startsAt = new Date('2026-05-01T18:00:00Z');
function slot(overrides: Partial<SlotState> = {}): SlotState {
  return {
    id: 'slot_p',
    zoneId: 'z1',
    kind: 'pickup',
    startsAt,
    endsAt: new Date('2026-05-01T20:00:00Z'),
    capacity: 10,
    reserved: 0,
    cutoffMinutes: 120,
    closed: false,
    ...overrides,
  };
}

describe('slotAvailability', () => {
  const cutoff = new Date('2026-05-01T16:00:00Z');

  it('is bookable until the cut-off and closes exactly at it', () => {
    expect(slotAvailability(slot(), new Date(cutoff.getTime() - 1))).toEqual({ bookable: true, remaining: 10 });
    expect(slotAvailability(slot(), cutoff)).toEqual({ bookable: false, reason: 'past_cutoff' });
    expect(slotAvailability(slot({ cutoffMinutes: 0 }), startsAt)).toEqual({ bookable: false, reason: 'past_cutoff' });
  });

  it('is full when reservations reach capacity', () => {
    const now = new Date('2026-05-01T08:00:00Z');
    expect(slotAvailability(slot({ reserved: 9 }), now)).toEqual({ bookable: true, remaining: 1 });
    expect(slotAvailability(slot({ reserved: 10 }), now)).toEqual({ bookable: false, reason: 'full' });
    expect(slotAvailability(slot({ reserved: 11 }), now)).toEqual({ bookable: false, reason: 'full' });
  });

  it('reports closed before anything else', () => {
    expect(slotAvailability(slot({ closed: true, reserved: 10 }), cutoff)).toEqual({ bookable: false, reason: 'closed' });
  });
});

describe('checkSlotPair', () => {
  const now = new Date('2026-05-01T08:00:00Z');
  const pickup = slot();
  // pickup ends 20:00Z; with 24 h turnaround delivery may start at 2026-05-02T20:00Z
  const delivery = slot({
    id: 'slot_d',
    kind: 'delivery',
    startsAt: new Date('2026-05-02T20:00:00Z'),
    endsAt: new Date('2026-05-02T22:00:00Z'),
  });
  const pair = { pickup, delivery, zoneId: 'z1', turnaroundHours: 24, now };

  it('accepts a delivery starting exactly at pickup end + turnaround', () => {
    expect(() => checkSlotPair(pair)).not.toThrow();
  });

  it('rejects a delivery one millisecond too early', () => {
    const early = { ...delivery, startsAt: new Date(delivery.startsAt.getTime() - 1) };
    const error = expectCode(() => checkSlotPair({ ...pair, delivery: early }), 'delivery_too_early');
    expect(error.details).toMatchObject({ earliestDeliveryStart: '2026-05-02T20:00:00.000Z' });
  });

  it('rejects slots of the wrong kind', () => {
    expect(expectCode(() => checkSlotPair({ ...pair, pickup: delivery }), 'slot_kind_mismatch').details).toMatchObject({
      slot: 'pickup',
    });
    expect(expectCode(() => checkSlotPair({ ...pair, delivery: pickup }), 'slot_kind_mismatch').details).toMatchObject({
      slot: 'delivery',
      kind: 'pickup',
    });
  });

  it('rejects slots from another zone', () => {
    const error = expectCode(() => checkSlotPair({ ...pair, delivery: { ...delivery, zoneId: 'z2' } }), 'slot_zone_mismatch');
    expect(error.details).toMatchObject({ slot: 'delivery', slotZoneId: 'z2', zoneId: 'z1' });
    expectCode(() => checkSlotPair({ ...pair, zoneId: 'z2' }), 'slot_zone_mismatch');
  });

  it('names the unavailable slot and why', () => {
    const full = expectCode(() => checkSlotPair({ ...pair, pickup: { ...pickup, reserved: 10 } }), 'slot_unavailable');
    expect(full.details).toEqual({ slot: 'pickup', slotId: 'slot_p', reason: 'full' });
    const closed = expectCode(() => checkSlotPair({ ...pair, delivery: { ...delivery, closed: true } }), 'slot_unavailable');
    expect(closed.details).toEqual({ slot: 'delivery', slotId: 'slot_d', reason: 'closed' });
    const late = expectCode(() => checkSlotPair({ ...pair, now: new Date('2026-05-01T16:00:00Z') }), 'slot_unavailable');
    expect(late.details).toMatchObject({ slot: 'pickup', reason: 'past_cutoff' });
  });
});

describe('zonedWallTimeToUtc', () => {
  it.each([
    // Europe/London spring forward 2026-03-29 01:00 GMT → 02:00 BST
    ['2026-03-28', '09:00', 'Europe/London', '2026-03-28T09:00:00.000Z'],
    ['2026-03-29', '00:30', 'Europe/London', '2026-03-29T00:30:00.000Z'],
    ['2026-03-29', '01:00', 'Europe/London', '2026-03-29T01:00:00.000Z'], // gap → the jump, 02:00 BST
    ['2026-03-29', '01:30', 'Europe/London', '2026-03-29T01:00:00.000Z'], // gap → the jump, 02:00 BST
    ['2026-03-29', '02:00', 'Europe/London', '2026-03-29T01:00:00.000Z'],
    ['2026-03-29', '09:00', 'Europe/London', '2026-03-29T08:00:00.000Z'],
    // Europe/London fall back 2026-10-25 02:00 BST → 01:00 GMT
    ['2026-10-24', '09:00', 'Europe/London', '2026-10-24T08:00:00.000Z'],
    ['2026-10-25', '01:00', 'Europe/London', '2026-10-25T00:00:00.000Z'], // ambiguous → BST
    ['2026-10-25', '01:30', 'Europe/London', '2026-10-25T00:30:00.000Z'], // ambiguous → BST
    ['2026-10-25', '02:00', 'Europe/London', '2026-10-25T02:00:00.000Z'],
    ['2026-10-25', '09:00', 'Europe/London', '2026-10-25T09:00:00.000Z'],
    // Negative offset zone
    ['2026-03-08', '02:30', 'America/New_York', '2026-03-08T07:00:00.000Z'], // gap → the jump, 03:00 EDT
    ['2026-11-01', '01:30', 'America/New_York', '2026-11-01T05:30:00.000Z'], // ambiguous → EDT
    // Southern hemisphere, positive offset, day boundary in UTC
    ['2026-04-05', '02:30', 'Australia/Sydney', '2026-04-04T15:30:00.000Z'], // ambiguous → AEDT
    ['2026-10-04', '02:30', 'Australia/Sydney', '2026-10-03T16:00:00.000Z'], // gap → the jump, 03:00 AEDT
    // Fractional offset, no DST, and UTC itself
    ['2026-01-01', '09:00', 'Asia/Kolkata', '2026-01-01T03:30:00.000Z'],
    ['2026-01-01', '00:00', 'UTC', '2026-01-01T00:00:00.000Z'],
  ])('%s %s in %s is %s', (date, time, timeZone, expected) => {
    expect(iso(zonedWallTimeToUtc(date, time, timeZone))).toBe(expected);
  });

  it('rejects unknown zones, impossible dates and malformed times', () => {
    expectCode(() => zonedWallTimeToUtc('2026-01-01', '09:00', 'Mars/Olympus'), 'invalid_time_zone');
    expectCode(() => zonedWallTimeToUtc('2026-02-29', '09:00', 'UTC'), 'invalid_date');
    expectCode(() => zonedWallTimeToUtc('2026-1-1', '09:00', 'UTC'), 'invalid_date');
    expectCode(() => zonedWallTimeToUtc('2026-01-01', '24:00', 'UTC'), 'invalid_time');
    expectCode(() => zonedWallTimeToUtc('2026-01-01', '9:00', 'UTC'), 'invalid_time');
  });
});

describe('generateSlots', () => {
  const template: SlotTemplate = {
    zoneId: 'z1',
    timeZone: 'Europe/London',
    cutoffMinutes: 120,
    windows: [
      { weekday: 0, start: '09:00', end: '11:00', kind: 'pickup', capacity: 10 },
      { weekday: 0, start: '18:00', end: '20:00', kind: 'delivery', capacity: 8 },
      { weekday: 6, start: '09:00', end: '11:00', kind: 'pickup', capacity: 5 },
    ],
  };

  it('keeps local wall times across both DST changes', () => {
    const spring = generateSlots(template, { from: '2026-03-28', to: '2026-03-29' }, []);
    expect(spring.map((s) => [s.kind, iso(s.startsAt), iso(s.endsAt), s.capacity])).toEqual([
      ['pickup', '2026-03-28T09:00:00.000Z', '2026-03-28T11:00:00.000Z', 5],
      ['pickup', '2026-03-29T08:00:00.000Z', '2026-03-29T10:00:00.000Z', 10],
      ['delivery', '2026-03-29T17:00:00.000Z', '2026-03-29T19:00:00.000Z', 8],
    ]);
    const autumn = generateSlots(template, { from: '2026-10-24', to: '2026-10-25' }, []);
    expect(autumn.map((s) => iso(s.startsAt))).toEqual([
      '2026-10-24T08:00:00.000Z',
      '2026-10-25T09:00:00.000Z',
      '2026-10-25T18:00:00.000Z',
    ]);
    expect(autumn[0]).toMatchObject({ zoneId: 'z1', kind: 'pickup', cutoffMinutes: 120 });
  });

  it('converts a window that spans the spring-forward gap', () => {
    const night = { ...template, windows: [{ weekday: 0 as const, start: '00:30', end: '02:30', kind: 'pickup' as const, capacity: 1 }] };
    const [only] = generateSlots(night, { from: '2026-03-29', to: '2026-03-29' }, []);
    expect([iso(only!.startsAt), iso(only!.endsAt)]).toEqual(['2026-03-29T00:30:00.000Z', '2026-03-29T01:30:00.000Z']);
  });

  it('produces nothing on closed dates', () => {
    const slots = generateSlots(template, { from: '2026-03-28', to: '2026-04-05' }, ['2026-03-29']);
    expect(slots.map((s) => iso(s.startsAt).slice(0, 10))).toEqual(['2026-03-28', '2026-04-04', '2026-04-05', '2026-04-05']);
  });

  it('accepts a 62-day range and rejects 63 days, a reversed range or bad dates', () => {
    expect(generateSlots(template, { from: '2026-01-01', to: '2026-03-04' }, []).length).toBeGreaterThan(0);
    expectCode(() => generateSlots(template, { from: '2026-01-01', to: '2026-03-05' }, []), 'invalid_range');
    expectCode(() => generateSlots(template, { from: '2026-03-02', to: '2026-03-01' }, []), 'invalid_range');
    expectCode(() => generateSlots(template, { from: '2026-02-30', to: '2026-03-01' }, []), 'invalid_range');
    expectCode(() => generateSlots(template, { from: '2026-03-01', to: '2026-03-01' }, ['2026-13-01']), 'invalid_date');
  });

  it('rejects an unknown time zone', () => {
    const bad = { ...template, timeZone: 'Europe/Atlantis' };
    expectCode(() => generateSlots(bad, { from: '2026-03-01', to: '2026-03-01' }, []), 'invalid_time_zone');
  });

  const window = template.windows[0]!;
  it.each([
    ['end equal to start', { ...window, end: '09:00' }],
    ['end before start', { ...window, start: '11:00', end: '09:00' }],
    ['malformed time', { ...window, start: '9am' }],
    ['capacity 0', { ...window, capacity: 0 }],
    ['capacity 10001', { ...window, capacity: 10_001 }],
    ['fractional capacity', { ...window, capacity: 1.5 }],
    ['weekday 7', { ...window, weekday: 7 as 0 }],
  ])('rejects a window with %s', (_label, badWindow) => {
    const bad = { ...template, windows: [badWindow] };
    expectCode(() => generateSlots(bad, { from: '2026-03-01', to: '2026-03-01' }, []), 'invalid_slot_template');
  });

  it('accepts capacities at the bounds and rejects duplicate windows or a bad cut-off', () => {
    const bounds = { ...template, windows: [{ ...window, capacity: 1 }, { ...window, start: '12:00', end: '13:00', capacity: 10_000 }] };
    expect(generateSlots(bounds, { from: '2026-03-01', to: '2026-03-01' }, []).map((s) => s.capacity)).toEqual([1, 10_000]);
    const range = { from: '2026-03-01', to: '2026-03-01' };
    expectCode(() => generateSlots({ ...template, windows: [window, window] }, range, []), 'invalid_slot_template');
    expectCode(() => generateSlots({ ...template, cutoffMinutes: -1 }, range, []), 'invalid_slot_template');
  });
});
