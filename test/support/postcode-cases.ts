/**
 * Postcode matching cases (issue 11), shared by the domain unit tests and the SQL parity test so
 * both implementations of the rule are held to one table.
 */

/** [zone prefix, postcode, covered?] */
export const COVER_CASES: Array<[string, string, boolean]> = [
  // The README's example zone ["SW1", "W1"]
  ['SW1', 'SW1A 1AA', true],
  ['SW1', 'SW1P 3BU', true],
  ['SW1', 'SW1 1AA', true], // district without a sub-district letter
  ['SW1', 'SW19 5AE', false], // Wimbledon
  ['SW1', 'SW11 1AA', false],
  ['W1', 'W1A 0AX', true],
  ['W1', 'W1T 1AB', true],
  ['W1', 'W12 8QT', false],
  ['W1', 'W13 9AA', false],
  // Areas
  ['SW', 'SW19 5AE', true],
  ['SW', 'SW1A 1AA', true],
  ['S', 'S1 1AA', true],
  ['SW', 'S1 1AA', false], // Sheffield is area S
  ['S', 'SW1A 1AA', false],
  ['E', 'EC1V 9ND', false],
  ['EC', 'EC1V 9ND', true],
  // Two-digit districts and sub-districts
  ['SW19', 'SW19 5AE', true],
  ['SW19', 'SW1 9AA', false],
  ['SW1A', 'SW1A 1AA', true],
  ['SW1A', 'SW1P 3BU', false],
  ['SW1A', 'SW1 1AA', false],
  ['E1W', 'E1W 1AA', true],
  ['E1', 'E1W 1AA', true],
  ['E1', 'E14 5AB', false],
  // Spaces and case
  ['sw1 ', 'sw1a 1aa', true],
  [' w 1', 'w1t1ab', true],
  // Outward codes and areas on their own
  ['SW1', 'SW1A', true],
  ['SW1A', 'SW1', false],
  ['SW', 'SW', true],
  ['SW1', 'SW', false],
  // Numeric systems (US ZIP codes): plain prefix, as before
  ['941', '94103', true],
  ['94103', '94103 1234', true],
  ['94103', '941031234', true],
  ['94103', '94104', false],
  ['9410', '94103', true],
  ['941', '9410', true],
  ['94103', '9410', false],
  ['941', '1234AB', false],
  ['1234', '1234AB', true], // a Dutch-style postcode: its digits still match
  // No cross-over between the systems, and no match on shapes neither system has
  ['SW1', '94103', false],
  ['9', 'SW1A 1AA', false],
  ['K1A', 'K1A 0B1', false], // Canadian: not UK-shaped (inward is digit-letter-letter)
  ['SW1', '9Q9 9QQ', false],
];

/** Postcodes whose full key lists are compared (domain vs SQL), most specific last. */
export const KEY_CASES: Array<[string, string[]]> = [
  ['SW1A1AA', ['SW', 'SW1', 'SW1A']],
  ['SW195AE', ['SW', 'SW19']],
  ['SW111AA', ['SW', 'SW11']],
  ['SW11AA', ['SW', 'SW1']],
  ['W1A0AX', ['W', 'W1', 'W1A']],
  ['S11AA', ['S', 'S1']],
  ['SW1A', ['SW', 'SW1', 'SW1A']],
  ['SW', ['SW']],
  ['94103', ['9', '94', '941', '9410', '94103']],
  ['1234AB', ['1', '12', '123', '1234']],
  ['9Q99QQ', ['9']],
  ['K1A0B1', []],
  ['SWX', []],
  ['SW1A1', []],
];

/** [prefix, valid as a zone prefix?] */
export const PREFIX_CASES: Array<[string, boolean]> = [
  ['SW', true],
  ['S', true],
  ['SW1', true],
  ['SW19', true],
  ['SW1A', true],
  ['w1 a', true],
  ['941', true],
  ['0123456789', true],
  ['SW1A1', false], // a sector: not supported
  ['SW1A1AA', false], // a whole postcode
  ['SWX', false],
  ['ABC', false],
  ['1AB', false],
  ['SW19A', false],
  ['', false],
  ['01234567890', false],
];
