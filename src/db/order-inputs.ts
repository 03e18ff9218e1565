/**
 * What an order is priced and checked on, remembered in process (Node) or isolate (Workers)
 * memory so that `POST /v1/orders` can usually skip its read and go straight to its one write
 * (src/modules/orders/create.ts). Nothing here is ever trusted: the write statement compares
 * every remembered row with the database, in the same statement that claims the idempotency
 * key, and writes nothing when one differs; the handler then reads the rows afresh and decides
 * on those (the read-then-write path). A wrong entry therefore costs a round trip, never a
 * wrong order or a wrong error.
 *
 * Filled by whatever already read the rows: the order context read (zones, services, the
 * address, both slots, whether the viewer is synthetic), the address endpoints and the slot
 * listing (GET /v1/slots). Here in src/db, beside zone-viewer.ts, because those live in
 * different modules, which may not import each other sideways (eslint.config.js MODULE_LAYERS).
 *
 * Bounded: at most `maxEntries` rows and `maxSlots` slots (kept apart, so that anonymous slot
 * listings cannot push out addresses and services), least recently used dropped first, and none
 * older than `ttlMs` (default 10 min; entries are checked anyway, the bound only keeps the rows
 * from being retried once they have surely moved on).
 */
import { systemClock, type Clock } from '../deps.js';
import type { PromoDefinition } from '../domain/promo.js';

/** An address row as the order snapshot needs it, with its owner. */
export interface CachedAddress {
  id: string;
  userId: string;
  label: string | null;
  line1: string;
  line2: string | null;
  city: string;
  postcode: string;
  instructions: string | null;
}

/** A slot row. `capacity`, `reserved` and `closed` move all day; the write re-checks them itself. */
export interface CachedSlot {
  id: string;
  zoneId: string;
  kind: 'pickup' | 'delivery';
  startsAt: Date;
  endsAt: Date;
  cutoffMinutes: number;
  capacity: number;
  reserved: number;
  closed: boolean;
}

/** An active zone's matching and pricing fields, exactly as `zonesJson` (create-context.ts) builds them. */
export interface CachedZone {
  id: string;
  postcodePrefixes: string[];
  active: boolean;
  synthetic: boolean;
  deliveryFee: number;
  minimumOrder: number;
  freeDeliveryFrom: number | null;
}

/** A service with all its add-ons (ordered by id), exactly as `servicesJson` (create-context.ts) builds it. */
export interface CachedService {
  id: string;
  name: string;
  pricingModel: 'per_kg' | 'per_item';
  unitPrice: number;
  currency: string;
  turnaroundHours: number;
  expressSurchargeBps: number | null;
  expressTurnaroundHours: number | null;
  active: boolean;
  addOns: Array<{ id: string; serviceId: string; name: string; price: number; active: boolean }>;
}

export interface OrderInputsOptions {
  /** Addresses, services, zones and viewer flags; default 4096. */
  maxEntries?: number;
  /** Slots, bounded on their own: one public GET /v1/slots may list a month of them; default 4096. */
  maxSlots?: number;
  ttlMs?: number;
  clock?: Clock;
}

/** A Map bounded by count (least recently used dropped first) and by age. */
class BoundedMap {
  private readonly entries = new Map<string, { value: unknown; until: number }>();
  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get<T>(key: string): T | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.until <= this.clock.now().getTime()) {
      this.entries.delete(key);
      return undefined;
    }
    // Least recently used goes first: a hit moves the entry to the end.
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value as T;
  }

  set(key: string, value: unknown): void {
    this.entries.delete(key);
    this.entries.set(key, { value, until: this.clock.now().getTime() + this.ttlMs });
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

export class OrderInputsCache {
  private readonly rows: BoundedMap;
  private readonly slots: BoundedMap;

  constructor(opts: OrderInputsOptions = {}) {
    const ttlMs = opts.ttlMs ?? 10 * 60_000;
    const clock = opts.clock ?? systemClock;
    this.rows = new BoundedMap(opts.maxEntries ?? 4096, ttlMs, clock);
    this.slots = new BoundedMap(opts.maxSlots ?? 4096, ttlMs, clock);
  }

  /** The address, when remembered and owned by `userId` (another user's address reads as unknown). */
  address(id: string, userId: string): CachedAddress | undefined {
    const a = this.rows.get<CachedAddress>(`address:${id}`);
    return a && a.userId === userId ? a : undefined;
  }
  putAddress(a: CachedAddress): void {
    this.rows.set(`address:${a.id}`, a);
  }

  /** Forgets whatever is remembered under these ids (rows deleted, or a fresh read found gone). */
  forget(kind: 'address' | 'slot' | 'service', ids: Iterable<string>): void {
    for (const id of ids) (kind === 'slot' ? this.slots : this.rows).delete(`${kind}:${id}`);
  }

  slot(id: string): CachedSlot | undefined {
    return this.slots.get<CachedSlot>(`slot:${id}`);
  }
  putSlot(s: CachedSlot): void {
    this.slots.set(`slot:${s.id}`, s);
  }

  /** Every active zone (synthetic ones too), ordered by id. */
  zones(): CachedZone[] | undefined {
    return this.rows.get<CachedZone[]>('zones');
  }
  putZones(zones: CachedZone[]): void {
    this.rows.set('zones', zones);
  }

  /**
   * A zone's IANA time zone, as last read (slot generation plans in it; its one statement checks
   * it and reports the current one: src/modules/zones/generate-slots.ts).
   */
  zoneTimeZone(id: string): string | undefined {
    return this.rows.get<string>(`zone-tz:${id}`);
  }
  putZoneTimeZone(id: string, timeZone: string): void {
    this.rows.set(`zone-tz:${id}`, timeZone);
  }

  service(id: string): CachedService | undefined {
    return this.rows.get<CachedService>(`service:${id}`);
  }
  putService(s: CachedService): void {
    this.rows.set(`service:${s.id}`, s);
  }

  /** Whether the user is synthetic (release probes), when known. */
  viewerSynthetic(userId: string): boolean | undefined {
    return this.rows.get<boolean>(`viewer:${userId}`);
  }
  putViewerSynthetic(userId: string, synthetic: boolean): void {
    this.rows.set(`viewer:${userId}`, synthetic);
  }

  /** A promo code's definition by its normalised code (its counters are the write's own checks). */
  promo(code: string): PromoDefinition | undefined {
    return this.rows.get<PromoDefinition>(`promo:${code}`);
  }
  putPromo(p: PromoDefinition): void {
    this.rows.set(`promo:${p.code}`, p);
  }
  forgetPromo(code: string): void {
    this.rows.delete(`promo:${code}`);
  }

  /** The user's credit balance as last read or written by this process (the write re-checks it). */
  creditBalance(userId: string): number | undefined {
    return this.rows.get<number>(`credit:${userId}`);
  }
  putCreditBalance(userId: string, balance: number): void {
    this.rows.set(`credit:${userId}`, balance);
  }

  /** Entries held: rows (addresses, services, zones, viewer flags) + slots. */
  get size(): number {
    return this.rows.size + this.slots.size;
  }
}
