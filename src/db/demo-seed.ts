/**
 * Demo data for a local database, so a new checkout can book on first start: a demo zone, its
 * slots for the next DEMO_DAYS days and a staff and an admin account. Used by `npm start` on the
 * embedded database (src/platform/node/server.ts) and by `npm run dev` (scripts/dev.ts); README,
 * "Quickstart" walks through it. Never in production: `seedDemo` throws when `appEnv` is
 * `production`, and the Node server's configuration refuses SEED_DEMO there (src/platform/node/config.ts).
 *
 * Idempotent: the zone has a fixed id and is inserted only if missing (an admin's later edits
 * stay), slots are the zones module's weekly generation, which skips windows that already have a
 * slot, and accounts are created only where their email is free. Each start adds the days that
 * have come into the 14-day horizon, so the slots roll forward.
 *
 * Credentials are fixed and documented (DEMO_ACCOUNTS) rather than random per start: the README's
 * curl walkthrough can then be copied as it is and is tested verbatim
 * (test/node/readme-walkthrough.test.ts). They protect nothing: a development server already signs
 * tokens with the public development JWT secret; real data belongs behind APP_ENV=production.
 */
import { inArray } from 'drizzle-orm';
import { z } from 'zod';
import type { Deps } from '../deps.js';
import { createAccounts } from '../modules/auth/create-accounts.js';
import { generateZoneSlots } from '../modules/zones/generate-slots.js';
import { CreateZoneBody, GenerateSlotsBody } from '../modules/zones/schemas.js';
import type { AppEnv } from '../config-env.js';
import { runQuery } from './client.js';
import { users, zones } from './schema.js';

/** How far ahead the demo zone has slots: today (the zone's local date) and the 13 days after it. */
export const DEMO_DAYS = 14;

/** The demo zone's id, fixed so that every start finds the zone it made, whatever it is renamed to. */
export const DEMO_ZONE_ID = '00000000-0000-4000-8000-00000000de30';

export interface DemoAccount {
  role: 'staff' | 'admin';
  email: string;
  password: string;
  name: string;
}

/** Printed at every start outside production and written in the README. */
export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  { role: 'staff', email: 'staff@demo.example.com', password: 'demo staff password', name: 'Demo Staff' },
  { role: 'admin', email: 'admin@demo.example.com', password: 'demo admin password', name: 'Demo Admin' },
];

export interface DemoZone {
  name: string;
  /** Zone prefixes (src/domain/postcodes.ts). */
  postcodePrefixes: string[];
  timeZone: string;
  /** Postcodes the prefixes cover, for the printed summary and the README. */
  examplePostcodes: string[];
}

/**
 * One realistic zone per currency the demo knows; any other currency gets the USD one. Fees are
 * minor units of the shop's currency: 4.99 delivery, 15.00 minimum order, free from 50.00.
 */
export const DEMO_ZONES: Readonly<Record<string, DemoZone>> = {
  USD: { name: 'Demo: San Francisco', postcodePrefixes: ['941'], timeZone: 'America/Los_Angeles', examplePostcodes: ['94103', '94110'] },
  GBP: { name: 'Demo: Central London', postcodePrefixes: ['SW1', 'W1', 'EC1'], timeZone: 'Europe/London', examplePostcodes: ['SW1A 1AA', 'W1T 1AB'] },
  EUR: { name: 'Demo: Berlin', postcodePrefixes: ['10'], timeZone: 'Europe/Berlin', examplePostcodes: ['10115', '10997'] },
};

export function demoZoneFor(currency: string): DemoZone {
  return DEMO_ZONES[currency] ?? DEMO_ZONES.USD!;
}

/** Every day: pickups 08–10 and 18–20, deliveries 12–14 and 18–20, ten places each, booking closes 2 h before. */
const WEEKDAYS = [0, 1, 2, 3, 4, 5, 6] as const;
const DEMO_WINDOWS = WEEKDAYS.flatMap((weekday) => [
  { weekday, kind: 'pickup' as const, start: '08:00', end: '10:00', capacity: 10 },
  { weekday, kind: 'pickup' as const, start: '18:00', end: '20:00', capacity: 10 },
  { weekday, kind: 'delivery' as const, start: '12:00', end: '14:00', capacity: 10 },
  { weekday, kind: 'delivery' as const, start: '18:00', end: '20:00', capacity: 10 },
]);

export interface DemoSummary {
  zone: { id: string; name: string; postcodePrefixes: string[]; examplePostcodes: string[]; created: boolean };
  /** Local dates, inclusive. */
  slots: { from: string; to: string; created: number };
  accounts: Array<DemoAccount & { created: boolean }>;
}

/** `YYYY-MM-DD` of `at` on the calendar of `timeZone`. */
function localDate(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

const EmailRow = z.object({ email: z.string() });

/**
 * Seeds the demo zone, its slots for DEMO_DAYS days from today and DEMO_ACCOUNTS (passwords
 * hashed with `deps.passwords`, Argon2id, only for accounts that do not exist yet). At most five
 * round trips, each write one statement: the zone insert, the zone read and slot insert of
 * `generateZoneSlots`, the account lookup and the accounts insert. Throws in production.
 */
export async function seedDemo(
  deps: Pick<Deps, 'database' | 'clock'> & { passwords: { hash(password: string): Promise<string> } },
  opts: { currency: string; appEnv: AppEnv },
): Promise<DemoSummary> {
  if (opts.appEnv === 'production') throw new Error('refusing to seed demo data with APP_ENV=production');
  const demo = demoZoneFor(opts.currency);
  const now = deps.clock.now();
  // The zones module's own request schema: prefixes normalised and checked as an admin's would be.
  const zoneInput = CreateZoneBody.parse({
    name: demo.name,
    postcodePrefixes: demo.postcodePrefixes,
    timeZone: demo.timeZone,
    deliveryFee: 499,
    minimumOrder: 1500,
    freeDeliveryFrom: 5000,
  });
  const inserted = await runQuery(deps.database, (db) =>
    db
      .insert(zones)
      .values({ ...zoneInput, id: DEMO_ZONE_ID, createdAt: now, updatedAt: now })
      .onConflictDoNothing({ target: zones.id })
      .returning({ id: zones.id }),
  );

  const from = localDate(now, demo.timeZone);
  const to = addDays(from, DEMO_DAYS - 1);
  const generated = await generateZoneSlots(deps, DEMO_ZONE_ID, GenerateSlotsBody.parse({ cutoffMinutes: 120, windows: DEMO_WINDOWS, from, to }));

  const emails = DEMO_ACCOUNTS.map((a) => a.email);
  const existing = await runQuery(deps.database, (db) => db.select({ email: users.email }).from(users).where(inArray(users.email, emails)));
  const taken = new Set(existing.map((u) => u.email));
  const missing = DEMO_ACCOUNTS.filter((a) => !taken.has(a.email));
  const created = new Set<string>();
  if (missing.length > 0) {
    const accounts = await Promise.all(
      missing.map(async (a) => ({ email: a.email, passwordHash: await deps.passwords.hash(a.password), role: a.role, name: a.name })),
    );
    for (const row of await deps.database.rows(EmailRow, createAccounts(accounts, now))) created.add(row.email);
  }
  return {
    zone: { id: DEMO_ZONE_ID, name: demo.name, postcodePrefixes: zoneInput.postcodePrefixes, examplePostcodes: demo.examplePostcodes, created: inserted.length > 0 },
    slots: { from, to, created: generated.created },
    accounts: DEMO_ACCOUNTS.map((a) => ({ ...a, created: created.has(a.email) })),
  };
}

/** The lines printed at start: where to book and how to log in as staff and admin. Never in production. */
export function demoBanner(summary: DemoSummary): string {
  const width = Math.max(...summary.accounts.map((a) => a.email.length));
  return [
    `Demo data (not in production; README "Quickstart"): zone "${summary.zone.name}" serves ${summary.zone.postcodePrefixes.join(', ')}` +
      ` (try ${summary.zone.examplePostcodes.join(', ')}); slots ${summary.slots.from} to ${summary.slots.to} (${summary.slots.created} new).`,
    ...summary.accounts.map((a) => `  ${a.role.padEnd(5)}  ${a.email.padEnd(width)}  password: ${a.password}`),
  ].join('\n');
}
