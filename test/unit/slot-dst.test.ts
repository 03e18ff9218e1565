/**
 * Slot generation across clock changes (issue 11): the rule is in src/domain/slot-template.ts.
 * Transition instants (2026) were read from the IANA data through Intl:
 * - Europe/London:     spring 29 Mar 01:00Z (01:00 GMT → 02:00 BST), fall 25 Oct 01:00Z (02:00 BST → 01:00 GMT)
 * - Australia/Sydney:  fall 4 Apr 16:00Z (Sun 5 Apr 03:00 AEDT → 02:00 AEST), spring 3 Oct 16:00Z (Sun 4 Oct 02:00 → 03:00)
 * - America/Santiago:  fall 5 Apr 03:00Z (Sat 4 Apr 24:00 → 23:00), spring 6 Sep 04:00Z (Sun 6 Sep 00:00 → 01:00)
 */
import { describe, expect, it } from 'vitest';
import { planSlots, type SlotPlan, type SlotTemplate, type SlotWindow, type Weekday } from '../../src/domain/slot-template.js';
import { resolveWallTime } from '../../src/domain/zoned-time.js';

const iso = (d: Date) => d.toISOString();
const w = (weekday: Weekday, start: string, end: string, kind: SlotWindow['kind'] = 'pickup'): SlotWindow => ({
  weekday,
  start,
  end,
  kind,
  capacity: 4,
});
const plan = (timeZone: string, windows: SlotWindow[], from: string, to = from): SlotPlan =>
  planSlots({ zoneId: 'z', timeZone, cutoffMinutes: 60, windows }, { from, to }, []);
const spans = (p: SlotPlan) => p.slots.map((s) => [iso(s.startsAt), iso(s.endsAt)]);

describe('resolveWallTime', () => {
  it.each([
    ['2026-03-29', '01:30', 'Europe/London', { kind: 'skipped', transition: '2026-03-29T01:00:00.000Z' }],
    ['2026-10-25', '01:30', 'Europe/London', { kind: 'repeated', earlier: '2026-10-25T00:30:00.000Z', later: '2026-10-25T01:30:00.000Z' }],
    ['2026-10-04', '02:00', 'Australia/Sydney', { kind: 'skipped', transition: '2026-10-03T16:00:00.000Z' }],
    ['2026-04-05', '02:59', 'Australia/Sydney', { kind: 'repeated', earlier: '2026-04-04T15:59:00.000Z', later: '2026-04-04T16:59:00.000Z' }],
    ['2026-09-06', '00:00', 'America/Santiago', { kind: 'skipped', transition: '2026-09-06T04:00:00.000Z' }],
    ['2026-04-04', '23:00', 'America/Santiago', { kind: 'repeated', earlier: '2026-04-05T02:00:00.000Z', later: '2026-04-05T03:00:00.000Z' }],
    ['2026-10-25', '02:00', 'Europe/London', { kind: 'unique', instant: '2026-10-25T02:00:00.000Z' }],
  ])('%s %s in %s', (date, time, zone, expected) => {
    const r = resolveWallTime(date, time, zone);
    const out = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Date ? iso(v) : v]));
    expect(out).toEqual(expected);
  });
});

describe('generation on a spring-forward day', () => {
  it('London: a window inside the gap is skipped and reported; the other days are created', () => {
    const p = plan('Europe/London', [w(0, '01:00', '02:00'), w(6, '01:00', '02:00'), w(1, '01:00', '02:00')], '2026-03-28', '2026-03-30');
    expect(spans(p)).toEqual([
      ['2026-03-28T01:00:00.000Z', '2026-03-28T02:00:00.000Z'],
      ['2026-03-30T00:00:00.000Z', '2026-03-30T01:00:00.000Z'],
    ]);
    expect(p.skipped).toEqual([{ date: '2026-03-29', kind: 'pickup', start: '01:00', end: '02:00', reason: 'nonexistent_local_time' }]);
    expect(p.adjusted).toEqual([]);
  });

  it('London: windows straddling the gap keep the part that happens; one spanning it is just shorter', () => {
    const p = plan('Europe/London', [w(0, '00:30', '01:30'), w(0, '01:30', '03:00', 'delivery'), w(0, '01:15', '01:45', 'delivery')], '2026-03-29');
    expect(spans(p)).toEqual([
      ['2026-03-29T00:30:00.000Z', '2026-03-29T01:00:00.000Z'],
      ['2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z'],
    ]);
    expect(p.adjusted.map((a) => [a.start, a.reason])).toEqual([
      ['00:30', 'clipped_by_gap'],
      ['01:30', 'clipped_by_gap'],
    ]);
    expect(p.skipped.map((s) => [s.kind, s.start])).toEqual([['delivery', '01:15']]);
    const spanning = plan('Europe/London', [w(0, '00:30', '02:30')], '2026-03-29');
    expect(spans(spanning)).toEqual([['2026-03-29T00:30:00.000Z', '2026-03-29T01:30:00.000Z']]);
    expect(spanning.adjusted).toEqual([]);
  });

  it('Sydney: the 02:00-03:00 gap', () => {
    const p = plan('Australia/Sydney', [w(0, '02:00', '03:00'), w(0, '01:30', '02:30', 'delivery'), w(0, '02:30', '04:00')], '2026-10-04');
    expect(spans(p)).toEqual([
      ['2026-10-03T15:30:00.000Z', '2026-10-03T16:00:00.000Z'],
      ['2026-10-03T16:00:00.000Z', '2026-10-03T17:00:00.000Z'],
    ]);
    expect(p.skipped.map((s) => [s.date, s.start, s.reason])).toEqual([['2026-10-04', '02:00', 'nonexistent_local_time']]);
  });

  it('Santiago: the clock skips midnight, so a Sunday 00:00 window starts at 01:00', () => {
    const p = plan('America/Santiago', [w(0, '00:00', '01:00'), w(0, '00:00', '02:00', 'delivery')], '2026-09-06');
    expect(p.slots.map((s) => [s.kind, iso(s.startsAt), iso(s.endsAt)])).toEqual([
      ['delivery', '2026-09-06T04:00:00.000Z', '2026-09-06T05:00:00.000Z'],
    ]);
    expect(p.skipped.map((s) => [s.kind, s.reason])).toEqual([['pickup', 'nonexistent_local_time']]);
  });
});

describe('generation on a fall-back day', () => {
  it('London: a window in the repeated hour is its first occurrence; back-to-back windows neither overlap nor repeat', () => {
    const windows = [w(0, '00:00', '01:00'), w(0, '01:00', '01:30'), w(0, '01:30', '02:00'), w(0, '02:00', '03:00')];
    const p = plan('Europe/London', windows, '2026-10-25');
    expect(spans(p)).toEqual([
      ['2026-10-24T23:00:00.000Z', '2026-10-25T00:00:00.000Z'],
      ['2026-10-25T00:00:00.000Z', '2026-10-25T00:30:00.000Z'],
      // Runs to 02:00 on the clock, so it also covers the second pass of 01:00-02:00.
      ['2026-10-25T00:30:00.000Z', '2026-10-25T02:00:00.000Z'],
      ['2026-10-25T02:00:00.000Z', '2026-10-25T03:00:00.000Z'],
    ]);
    expect(p.adjusted.map((a) => [a.start, a.end, a.reason])).toEqual([
      ['00:00', '01:00', 'repeated_hour'], // its end, 01:00, is read twice on the clock
      ['01:00', '01:30', 'repeated_hour'],
      ['01:30', '02:00', 'repeated_hour'],
    ]);
    expect(p.skipped).toEqual([]);
  });

  it('Sydney: the repeated 02:00-03:00', () => {
    const p = plan('Australia/Sydney', [w(0, '02:00', '03:00'), w(0, '02:15', '02:45', 'delivery')], '2026-04-05');
    expect(p.slots.map((s) => [s.kind, iso(s.startsAt), iso(s.endsAt)])).toEqual([
      ['pickup', '2026-04-04T15:00:00.000Z', '2026-04-04T17:00:00.000Z'],
      ['delivery', '2026-04-04T15:15:00.000Z', '2026-04-04T15:45:00.000Z'],
    ]);
  });

  it('Santiago: Saturday 23:00-23:59 repeats, first occurrence taken', () => {
    const p = plan('America/Santiago', [w(6, '22:00', '23:30'), w(6, '23:30', '23:59')], '2026-04-04');
    expect(spans(p)).toEqual([
      ['2026-04-05T01:00:00.000Z', '2026-04-05T02:30:00.000Z'],
      ['2026-04-05T02:30:00.000Z', '2026-04-05T02:59:00.000Z'],
    ]);
  });
});

describe('any template across any clock change', () => {
  // Every half hour of every day as a window, and a set of odd-length ones of the other kind.
  const halfHours: SlotWindow[] = [];
  const odd: SlotWindow[] = [];
  for (let day = 0; day < 7; day++) {
    for (let m = 0; m < 24 * 60; m += 30) {
      const hhmm = (x: number) => `${String(Math.floor(x / 60)).padStart(2, '0')}:${String(x % 60).padStart(2, '0')}`;
      halfHours.push(w(day as Weekday, hhmm(m), hhmm(Math.min(m + 30, 24 * 60 - 1))));
      if (m % 90 === 0 && m + 75 < 24 * 60) odd.push(w(day as Weekday, hhmm(m + 10), hhmm(m + 75), 'delivery'));
    }
  }
  const cases: Array<[string, string, string]> = [
    ['Europe/London', '2026-03-26', '2026-04-01'],
    ['Europe/London', '2026-10-22', '2026-10-28'],
    ['Australia/Sydney', '2026-04-02', '2026-04-08'],
    ['Australia/Sydney', '2026-10-01', '2026-10-07'],
    ['America/Santiago', '2026-04-02', '2026-04-08'],
    ['America/Santiago', '2026-09-03', '2026-09-09'],
    ['America/New_York', '2026-03-05', '2026-03-11'],
    ['Australia/Lord_Howe', '2026-10-01', '2026-10-07'], // a 30-minute change
  ];
  it.each(cases)('%s from %s to %s: positive lengths, no overlap or duplicate, every window accounted for', (zone, from, to) => {
    const template: SlotTemplate = { zoneId: 'z', timeZone: zone, cutoffMinutes: 0, windows: [...halfHours, ...odd] };
    const p = planSlots(template, { from, to }, []);
    expect(p.slots.length + p.skipped.length).toBe((halfHours.length + odd.length)); // each weekday once in 7 days
    for (const kind of ['pickup', 'delivery'] as const) {
      const mine = p.slots.filter((s) => s.kind === kind);
      for (let i = 0; i < mine.length; i++) {
        expect(mine[i]!.endsAt.getTime()).toBeGreaterThan(mine[i]!.startsAt.getTime());
        if (i > 0) expect(mine[i]!.startsAt.getTime()).toBeGreaterThanOrEqual(mine[i - 1]!.endsAt.getTime());
      }
    }
    // Each change skips or repeats something in one of these weeks.
    expect(p.skipped.length + p.adjusted.length).toBeGreaterThan(0);
  });
});
