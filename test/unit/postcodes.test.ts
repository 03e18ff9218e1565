import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import { isZonePrefix, matchZone, normalizePostcode, postcodeKeys, prefixCovers } from '../../src/domain/postcodes.js';
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
  const readme = { id: 'z_central', postcodePrefixes: ['SW1', 'W1'], active: true };
  const wimbledon = { id: 'z_wimbledon', postcodePrefixes: ['SW19'], active: true };
  const sw = { id: 'z_sw', postcodePrefixes: ['SW'], active: true };

  it("keeps the README's example zone to its own districts", () => {
    for (const served of ['SW1A 1AA', 'SW1P 3BU', 'W1A 0AX', 'W1T 1AB']) expect(matchZone(served, [readme])?.zoneId).toBe('z_central');
    for (const unserved of ['SW19 5AE', 'SW11 1AA', 'W12 8QT', 'W13 9AA']) expect(matchZone(unserved, [readme])).toBeNull();
  });

  it('the most specific covering prefix wins, whatever the order of zones', () => {
    expect(matchZone('SW19 5AE', [sw, wimbledon, readme])).toEqual({ zoneId: 'z_wimbledon', prefix: 'SW19' });
    expect(matchZone('SW1A 1AA', [wimbledon, sw, readme])).toEqual({ zoneId: 'z_central', prefix: 'SW1' });
    expect(matchZone('SW11 1AA', [readme, wimbledon, sw])).toEqual({ zoneId: 'z_sw', prefix: 'SW' });
  });
});
