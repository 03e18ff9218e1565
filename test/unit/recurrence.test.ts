/**
 * Occurrence expansion of recurring pickups (src/domain/recurrence.ts). Clock changes used (2026,
 * IANA data): Europe/London springs forward Sun 29 Mar 01:00Z and falls back Sun 25 Oct 01:00Z;
 * America/New_York springs forward Sun 8 Mar 07:00Z and falls back Sun 1 Nov 06:00Z.
 */
import { describe, expect, it } from 'vitest';
import {
  addDays,
  dueOccurrences,
  localDateOf,
  nextOccurrences,
  occurrencesUntil,
  onCadence,
  weekdayOf,
  type RecurrenceRule,
} from '../../src/domain/recurrence.js';

const rule = (over: Partial<RecurrenceRule> = {}): RecurrenceRule => ({
  cadence: 'weekly',
  anchorDate: '2026-03-01',
  pickupStart: '09:00',
  timeZone: 'Europe/London',
  status: 'active',
  skippedDates: [],
  ...over,
});
const at = (iso: string) => new Date(iso);

describe('calendar arithmetic', () => {
  it('adds days across month and year ends and leap days', () => {
    expect(addDays('2026-01-31', 1)).toBe('2026-02-01');
    expect(addDays('2026-12-29', 7)).toBe('2027-01-05');
    expect(addDays('2028-02-26', 7)).toBe('2028-03-04'); // 2028 is a leap year: 29 Feb counts
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });
  it('names weekdays with 0 = Sunday', () => {
    expect(weekdayOf('2026-11-29')).toBe(0);
    expect(weekdayOf('2026-11-30')).toBe(1);
    expect(weekdayOf('1970-01-01')).toBe(4);
    expect(weekdayOf('1969-12-28')).toBe(0);
  });
  it('reads the local date of an instant in the zone, not in UTC', () => {
    expect(localDateOf(at('2026-11-30T23:30:00Z'), 'Europe/London')).toBe('2026-11-30');
    expect(localDateOf(at('2026-07-31T23:30:00Z'), 'Europe/London')).toBe('2026-08-01'); // BST
    expect(localDateOf(at('2027-01-01T03:00:00Z'), 'America/New_York')).toBe('2026-12-31');
  });
  it('rejects a date that is not on the calendar', () => {
    expect(() => addDays('2026-02-30', 1)).toThrow(/calendar date/);
  });
});

describe('weekly and biweekly across clock changes', () => {
  it('keeps the weekday through the London spring and autumn changes', () => {
    const dates = occurrencesUntil(rule({ anchorDate: '2026-03-22' }), at('2026-03-20T12:00:00Z'), '2026-04-05');
    expect(dates).toEqual(['2026-03-22', '2026-03-29', '2026-04-05']);
    const autumn = occurrencesUntil(rule({ anchorDate: '2026-10-18' }), at('2026-10-17T12:00:00Z'), '2026-11-01');
    expect(autumn).toEqual(['2026-10-18', '2026-10-25', '2026-11-01']);
    expect(autumn.every((d) => weekdayOf(d) === 0)).toBe(true);
  });

  it('keeps the weekday through the New York changes, with a late-evening pickup', () => {
    const r = rule({ anchorDate: '2026-02-28', timeZone: 'America/New_York', pickupStart: '21:00' });
    // 01:30Z on 7 Mar is still 6 Mar in New York: today is a Friday, Saturday's pickup is ahead.
    expect(occurrencesUntil(r, at('2026-03-07T01:30:00Z'), '2026-03-14')).toEqual(['2026-03-07', '2026-03-14']);
    const fall = occurrencesUntil(r, at('2026-10-30T12:00:00Z'), '2026-11-07');
    expect(fall).toEqual(['2026-10-31', '2026-11-07']);
  });

  it('drops today once the pickup has started, judged with the day’s own UTC offset', () => {
    // 29 Mar 2026 London is BST: 09:00 local is 08:00Z.
    const r = rule({ anchorDate: '2026-03-29' });
    expect(occurrencesUntil(r, at('2026-03-29T07:59:00Z'), '2026-03-29')).toEqual(['2026-03-29']);
    expect(occurrencesUntil(r, at('2026-03-29T08:00:00Z'), '2026-03-29')).toEqual([]);
    // A pickup at 01:30 on the spring-forward day does not exist: it starts at the jump (01:00Z).
    const gap = rule({ anchorDate: '2026-03-29', pickupStart: '01:30' });
    expect(occurrencesUntil(gap, at('2026-03-29T00:59:00Z'), '2026-03-29')).toEqual(['2026-03-29']);
    expect(occurrencesUntil(gap, at('2026-03-29T01:00:00Z'), '2026-03-29')).toEqual([]);
  });

  it('keeps the biweekly parity of the anchor across a year end (2026 has 53 ISO weeks)', () => {
    const r = rule({ cadence: 'biweekly', anchorDate: '2026-12-17' });
    expect(occurrencesUntil(r, at('2026-12-01T00:00:00Z'), '2027-01-31')).toEqual(['2026-12-17', '2026-12-31', '2027-01-14', '2027-01-28']);
    // Asked from a date between two occurrences: the next one on parity, not the next Thursday.
    expect(nextOccurrences(r, at('2027-01-05T10:00:00Z'), 2)).toEqual(['2027-01-14', '2027-01-28']);
    expect(onCadence(r, '2027-01-21')).toBe(false);
    expect(onCadence(r, '2027-01-28')).toBe(true);
  });

  it('crosses month ends, including February of a leap year', () => {
    const r = rule({ anchorDate: '2028-01-31' });
    expect(occurrencesUntil(r, at('2028-01-30T00:00:00Z'), '2028-03-06')).toEqual([
      '2028-01-31', '2028-02-07', '2028-02-14', '2028-02-21', '2028-02-28', '2028-03-06',
    ]);
  });
});

describe('never in the past, skips, pause', () => {
  it('starts at the anchor and never before today', () => {
    expect(occurrencesUntil(rule({ anchorDate: '2026-12-07' }), at('2026-11-30T12:00:00Z'), '2026-12-31')[0]).toBe('2026-12-07');
    expect(occurrencesUntil(rule({ anchorDate: '2026-01-05' }), at('2026-11-30T12:00:00Z'), '2026-12-08')).toEqual(['2026-12-07']);
  });
  it('leaves out skipped dates and nothing else', () => {
    const r = rule({ anchorDate: '2026-12-01', skippedDates: ['2026-12-08', '2026-12-09'] });
    expect(occurrencesUntil(r, at('2026-11-30T12:00:00Z'), '2026-12-22')).toEqual(['2026-12-01', '2026-12-15', '2026-12-22']);
  });
  it('has no occurrence while paused', () => {
    expect(nextOccurrences(rule({ status: 'paused' }), at('2026-11-30T12:00:00Z'), 5)).toEqual([]);
  });
  it('the job looks exactly daysAhead days ahead, inclusive', () => {
    const r = rule({ anchorDate: '2026-11-30', cadence: 'weekly' });
    expect(dueOccurrences(r, at('2026-12-05T12:00:00Z'), 2)).toEqual(['2026-12-07']);
    expect(dueOccurrences(r, at('2026-12-04T12:00:00Z'), 2)).toEqual([]);
  });
  it('bounds a long list by its limit', () => {
    expect(nextOccurrences(rule({ anchorDate: '2026-01-01' }), at('2026-11-30T12:00:00Z'), 3)).toHaveLength(3);
  });
});
