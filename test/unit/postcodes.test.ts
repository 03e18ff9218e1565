import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import {
  isReservedPrefix,
  isZonePrefix,
  matchZone,
  normalizePostcode,
  postcodeKeys,
  prefixCovers,
  SYNTHETIC_POSTCODE,
  SYNTHETIC_ZONE_PREFIX,
} from '../../src/domain/postcodes.js';
import { COVER_CASES, KEY_CASES, PREFIX_CASES } from '../support/postcode-cases.js';

describe('prefixCovers: a prefix matches only at an area, district or sub-district boundary', () => {
  it.each(COVER_CASES)('%j covers %j: %s', (prefix, postcode, covered) => {
    expect(prefixCovers(prefix, postcode)).toBe(covered);
  });
});

describe('postcodeKeys', () => {
  it.each(KEY_CASES)('%s → %j', (postcode, keys) => {
    expect(postcodeKeys(postcode)).toEqual(keys);
  });
});

describe('isZonePrefix', () => {
  it.each(PREFIX_CASES)('%j → %s', (prefix, valid) => {
    expect(isZonePrefix(prefix)).toBe(valid);
  });
});

describe('normalizePostcode', () => {
  it('drops a ZIP+4 hyphen but no other punctuation', () => {
    expect(normalizePostcode('94103-1234')).toBe('941031234');
    for (const bad of ['SW1A-1AA', '9410-31234', '94103-123']) {
      expect(() => normalizePostcode(bad)).toThrow(DomainError);
    }
  });
});

describe('matchZone', () => {
  const REAL = { synthetic: false };
  const readme = { id: 'z_central', postcodePrefixes: ['SW1', 'W1'], active: true, synthetic: false };
  const wimbledon = { id: 'z_wimbledon', postcodePrefixes: ['SW19'], active: true, synthetic: false };
  const sw = { id: 'z_sw', postcodePrefixes: ['SW'], active: true, synthetic: false };

  it("keeps the README's example zone to its own districts", () => {
    for (const served of ['SW1A 1AA', 'SW1P 3BU', 'W1A 0AX', 'W1T 1AB']) expect(matchZone(served, [readme], REAL)?.zoneId).toBe('z_central');
    for (const unserved of ['SW19 5AE', 'SW11 1AA', 'W12 8QT', 'W13 9AA']) expect(matchZone(unserved, [readme], REAL)).toBeNull();
  });

  it('the most specific covering prefix wins, whatever the order of zones', () => {
    expect(matchZone('SW19 5AE', [sw, wimbledon, readme], REAL)).toEqual({ zoneId: 'z_wimbledon', prefix: 'SW19' });
    expect(matchZone('SW1A 1AA', [wimbledon, sw, readme], REAL)).toEqual({ zoneId: 'z_central', prefix: 'SW1' });
    expect(matchZone('SW11 1AA', [readme, wimbledon, sw], REAL)).toEqual({ zoneId: 'z_sw', prefix: 'SW' });
  });
});

describe('matchZone keeps synthetic (release-probe) zones and real customers apart', () => {
  const probe = { id: 'z_probe', postcodePrefixes: [SYNTHETIC_ZONE_PREFIX], active: true, synthetic: true };
  // A real zone that (against the admin rule) claims the same prefix, and one broader real zone.
  const realSame = { id: 'z_real_same', postcodePrefixes: [SYNTHETIC_ZONE_PREFIX], active: true, synthetic: false };
  const realSw = { id: 'z_sw', postcodePrefixes: ['SW'], active: true, synthetic: false };
  const SYNTHETIC = { synthetic: true };
  const REAL = { synthetic: false };

  it('a synthetic user is served only by the synthetic zone; a real one never by it', () => {
    expect(matchZone(SYNTHETIC_POSTCODE, [probe, realSw], SYNTHETIC)?.zoneId).toBe('z_probe');
    expect(matchZone(SYNTHETIC_POSTCODE, [probe, realSw], REAL)).toBeNull();
    expect(matchZone(SYNTHETIC_POSTCODE, [probe, realSame], REAL)?.zoneId).toBe('z_real_same');
    expect(matchZone(SYNTHETIC_POSTCODE, [probe, realSame], SYNTHETIC)?.zoneId).toBe('z_probe');
    // A synthetic user at a real postcode is not served: probes never take real capacity.
    expect(matchZone('SW1A 1AA', [probe, realSw], SYNTHETIC)).toBeNull();
    expect(matchZone('SW1A 1AA', [probe, realSw], REAL)?.zoneId).toBe('z_sw');
  });

  it('the reserved prefix is a valid zone prefix covering the synthetic postcode, and no real postcode area', () => {
    expect(isZonePrefix(SYNTHETIC_ZONE_PREFIX)).toBe(true);
    expect(prefixCovers(SYNTHETIC_ZONE_PREFIX, SYNTHETIC_POSTCODE)).toBe(true);
    for (const p of ['QQ', 'qq9', 'QQ9A', 'QQ12']) expect(isReservedPrefix(p), p).toBe(true);
    for (const p of ['Q', 'Q1', 'SW1', 'QA', '941', 'EC1A']) expect(isReservedPrefix(p), p).toBe(false);
  });
});
