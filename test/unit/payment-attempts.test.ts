import { describe, expect, it } from 'vitest';
import { attemptKey, metadataMatches } from '../../src/modules/payments/attempts.js';

describe('payment attempts', () => {
  it('attempt 1 keeps the historical key; later attempts add -a<n>', () => {
    expect(attemptKey('capture', 'p1', 1)).toBe('capture-p1');
    expect(attemptKey('overage', 'o1', 2)).toBe('overage-o1-a2');
    expect(attemptKey('refund', 'r1', 10)).toBe('refund-r1-a10');
  });

  it("matches an object on our order and kind, and on one of the operation's attempt keys when it names one", () => {
    const keys = ['balance-o1', 'balance-o1-a2'];
    expect(metadataMatches({ order_id: 'o1', kind: 'balance', attempt: 'balance-o1-a2' }, 'o1', 'balance', keys)).toBe(true);
    // Made before attempts were recorded: no attempt in the metadata.
    expect(metadataMatches({ order_id: 'o1', kind: 'overage' }, 'o1', 'overage', keys)).toBe(true);
    expect(metadataMatches({ order_id: 'o1', kind: 'balance', attempt: 'balance-other' }, 'o1', 'balance', keys)).toBe(false);
    expect(metadataMatches({ order_id: 'o2', kind: 'balance', attempt: 'balance-o1' }, 'o1', 'balance', keys)).toBe(false);
    expect(metadataMatches({ order_id: 'o1', kind: 'hold' }, 'o1', 'overage', keys)).toBe(false);
    expect(metadataMatches(null, 'o1', 'overage', keys)).toBe(false);
  });
});
