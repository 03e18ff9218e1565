import { describe, expect, it } from 'vitest';
import { OrderInputsCache, type CachedAddress } from '../../src/db/order-inputs.js';

const address = (id: string, userId = 'u1'): CachedAddress => ({
  id, userId, label: null, line1: '1 Test Street', line2: null, city: 'Testville', postcode: 'SW1A 1AA', instructions: null,
});

describe('OrderInputsCache', () => {
  it("answers an address to its owner only: another user's reads as unknown", () => {
    const cache = new OrderInputsCache();
    cache.putAddress(address('a1', 'u1'));
    expect(cache.address('a1', 'u1')?.line1).toBe('1 Test Street');
    expect(cache.address('a1', 'u2')).toBeUndefined();
    cache.forget('address', ['a1']);
    expect(cache.address('a1', 'u1')).toBeUndefined();
  });

  it('drops entries older than the TTL', () => {
    let now = 1_000_000;
    const cache = new OrderInputsCache({ ttlMs: 1000, clock: { now: () => new Date(now) } });
    cache.putViewerSynthetic('u1', false);
    cache.putZones([]);
    now += 999;
    expect(cache.viewerSynthetic('u1')).toBe(false);
    now += 1;
    expect(cache.viewerSynthetic('u1')).toBeUndefined();
    expect(cache.zones()).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('holds at most maxEntries, dropping the least recently used first', () => {
    const cache = new OrderInputsCache({ maxEntries: 3 });
    cache.putAddress(address('a1'));
    cache.putAddress(address('a2'));
    cache.putAddress(address('a3'));
    expect(cache.address('a1', 'u1')).toBeDefined(); // a1 is now the most recently used
    cache.putAddress(address('a4'));
    expect(cache.size).toBe(3);
    expect(cache.address('a2', 'u1')).toBeUndefined();
    expect(['a1', 'a3', 'a4'].map((id) => cache.address(id, 'u1')?.id)).toEqual(['a1', 'a3', 'a4']);
  });

  it('bounds slots on their own: a month of listed slots cannot push out addresses', () => {
    const cache = new OrderInputsCache({ maxEntries: 2, maxSlots: 3 });
    cache.putAddress(address('a1'));
    for (let i = 0; i < 10; i++) {
      cache.putSlot({ id: `s${i}`, zoneId: 'z', kind: 'pickup', startsAt: new Date(0), endsAt: new Date(0), cutoffMinutes: 0, capacity: 1, reserved: 0, closed: false });
    }
    expect(cache.address('a1', 'u1')?.id).toBe('a1');
    expect(cache.slot('s9')?.id).toBe('s9');
    expect(cache.slot('s6')).toBeUndefined();
    expect(cache.size).toBe(4);
  });
});
