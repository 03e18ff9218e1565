import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('RECURRING_DAYS_AHEAD', () => {
  it('defaults to 2 and takes 0–14', () => {
    expect(loadConfig({}).recurring).toEqual({ daysAhead: 2 });
    expect(loadConfig({ RECURRING_DAYS_AHEAD: ' ' }).recurring.daysAhead).toBe(2);
    expect(loadConfig({ RECURRING_DAYS_AHEAD: '0' }).recurring.daysAhead).toBe(0);
    expect(loadConfig({ RECURRING_DAYS_AHEAD: '14' }).recurring.daysAhead).toBe(14);
  });
  it.each(['15', '-1', '1.5', 'two'])('refuses %s, naming the variable', (value) => {
    try {
      loadConfig({ RECURRING_DAYS_AHEAD: value });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.join('\n')).toMatch(/^RECURRING_DAYS_AHEAD: /m);
    }
  });
});
