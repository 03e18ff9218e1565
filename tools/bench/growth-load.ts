/**
 * The growth section's data: "a year of a busy shop", loaded with set-based SQL
 * (generate_series, INSERT … SELECT; no row-by-row round trips) into the growth database.
 *
 * Model: what is live (the next 4 weeks of slots, the bench's own customers and their orders)
 * is the same at every size; what grows is the history behind it. A load of `days` days of
 * history holds, per the full size, 200,000 orders a year across 20,000 customers in 20 zones:
 * the customers (one address each, three refresh-token rows each), their orders (2 lines and 3
 * timeline entries each, an idempotency key each, as if the 24 h retention sweep had never run:
 * the worst case), the slots of every day (6 pickup and 6 delivery windows per zone), and one
 * day's login-throttle and rate-limit rows. History ends 3 days before today, so it never lands
 * in the staff queue or the bookable slots the bench measures.
 *
 * `loadHistory` loads one slice of that history; the section loads it whole into each of its
 * databases (1% in one, 100% in the other), but slices can also be added one after another, older
 * behind newer. Ids are derived from the row's number (md5, shaped as a v4 UUID), so slices never
 * collide and orders can name their customer.
 */
import type pg from 'pg';
import { performance } from 'node:perf_hooks';
import { log } from './lib.js';

export const ZONES = 20;
/** Windows per zone, day and kind: 08:00, 10:00, … 18:00 UTC, 2 h each. */
export const WINDOWS = 6;
/** Days of bookable future slots, the same at every size. */
export const FUTURE_DAYS = 28;
/** History ends this many days before today (orders there were picked up and delivered). */
export const HISTORY_GAP_DAYS = 3;

/** A deterministic UUID (v4-shaped, so any validator accepts it) from a text. */
const uid = (text: string) => `overlay(overlay(md5(${text}) placing '4' from 13) placing '8' from 17)::uuid`;

/** Zone `i` (0-based) of the growth zones: postcode prefix ZZ10 … ZZ29 (no prefix is another's prefix). */
export const zonePrefix = (i: number) => `ZZ${10 + i}`;

export interface Slice {
  /** Customers [from, to). */
  customers: [number, number];
  /** Orders [from, to). */
  orders: [number, number];
  /** History days before the gap: orders are created on days [-(GAP + days[1]), -(GAP + days[0])) from today. */
  days: [number, number];
}

/** The zones and the slots of the live part (from the gap to FUTURE_DAYS ahead): the same at every size. */
export async function loadZones(client: pg.ClientBase): Promise<void> {
  await client.query(
    `INSERT INTO zones (name, postcode_prefixes, time_zone, delivery_fee, minimum_order, free_delivery_from)
     SELECT 'Growth ' || lpad(z::text, 2, '0'), ARRAY['ZZ' || (10 + z)]::text[], 'Europe/London', 499, 1500, 5000
     FROM generate_series(0, $1::int - 1) AS z`,
    [ZONES],
  );
  await insertSlots(client, -HISTORY_GAP_DAYS, FUTURE_DAYS);
}

/** Slots of days [fromDay, toDay] relative to today (UTC), every growth zone, both kinds. */
async function insertSlots(client: pg.ClientBase, fromDay: number, toDay: number): Promise<void> {
  await client.query(
    `INSERT INTO slots (zone_id, kind, starts_at, ends_at, capacity, reserved, cutoff_minutes, closed)
     SELECT z.id, k.kind, t.starts_at, t.starts_at + interval '2 hours', 40, 0, 120, false
     FROM zones z
     CROSS JOIN (VALUES ('pickup'::slot_kind), ('delivery'::slot_kind)) AS k(kind)
     CROSS JOIN generate_series($1::int, $2::int) AS d
     CROSS JOIN generate_series(0, $3::int - 1) AS w
     CROSS JOIN LATERAL (SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                                + make_interval(days => d, hours => 8 + 2 * w) AS starts_at) AS t
     WHERE z.name LIKE 'Growth %'`,
    [fromDay, toDay, WINDOWS],
  );
}

/**
 * One slice of history, in dependency order. `template` is an order created through the API:
 * its JSON (address snapshot, estimate, pricing rules), lines and stored response are copied,
 * so every row is one the app could have written.
 */
export async function loadHistory(client: pg.ClientBase, s: Slice, template: { orderId: string; passwordHash: string }): Promise<void> {
  const times: string[] = [];
  const query = async (table: string, text: string, values: unknown[]) => {
    const t0 = performance.now();
    await client.query(text, values);
    times.push(`${table} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };
  const [d0, d1] = s.days;
  const gap = HISTORY_GAP_DAYS;
  // The slice's own days; its orders' pickups and deliveries (+1 and +2 days) reach into the
  // newer slice's first days, which that slice (or the live part, from -gap on) already loaded.
  const t0 = performance.now();
  await insertSlots(client, -(gap + d1), -(gap + d0) - 1);
  times.push(`slots ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // Every row below references only rows these statements made or joined to, so the per-row
  // foreign-key checks (RI triggers) add nothing but time: a superuser's load skips them. Where the
  // role may not (BENCH_DATABASE_URL without superuser), the load runs with them, slower.
  const skipChecks = await client.query(`SET session_replication_role = replica`).then(
    () => true,
    () => false,
  );
  const [u0, u1] = s.customers;
  const [n0, n1] = s.orders;
  const start = `(date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - make_interval(days => ${gap} + $3::int))`;
  const span = `make_interval(days => $3::int - $4::int)`;
  await query('users', 
    `INSERT INTO users (id, email, password_hash, role, created_at, updated_at)
     SELECT ${uid(`'growth-user-' || i`)}, 'customer-' || i || '@growth.test', $5, 'customer', t, t
     FROM generate_series($1::int, $2::int - 1) AS i
     CROSS JOIN LATERAL (SELECT ${start} + ${span} * ((i - $1)::float8 / ($2 - $1)) AS t) AS c`,
    [u0, u1, d1, d0, template.passwordHash],
  );
  await query('addresses', 
    `INSERT INTO addresses (id, user_id, label, line1, city, postcode, created_at, updated_at)
     SELECT ${uid(`'growth-address-' || i`)}, ${uid(`'growth-user-' || i`)}, 'Home', i || ' Growth Street', 'Growthville',
            'ZZ' || (10 + i % $3) || '1AA', u.created_at, u.created_at
     FROM generate_series($1::int, $2::int - 1) AS i
     JOIN users u ON u.id = ${uid(`'growth-user-' || i`)}`,
    [u0, u1, ZONES],
  );
  // Three refresh-token rows per customer: an old rotated one, an expired one, a live one.
  await query('refresh_tokens', 
    `INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at, revoked_at, revoked_reason)
     SELECT ${uid(`'growth-refresh-' || i || '-' || r`)}, ${uid(`'growth-user-' || i`)}, ${uid(`'growth-family-' || i`)},
            md5('growth-refresh-hash-' || i || '-' || r) || md5('salt-' || i || '-' || r),
            now() + make_interval(days => 30 - 20 * r), now() - make_interval(days => 20 * r),
            CASE WHEN r = 2 THEN now() - make_interval(days => 20 * r - 1) END, CASE WHEN r = 2 THEN 'rotated' END
     FROM generate_series($1::int, $2::int - 1) AS i CROSS JOIN generate_series(0, 2) AS r`,
    [u0, u1],
  );
  // The planner needs the new slots' and customers' numbers to join orders to them well.
  await client.query('ANALYZE slots, users, addresses');
  // Orders: customer by a hash of the order's number, zone = the customer's, created spread
  // evenly over the slice's days, picked up the next day and delivered the day after, in the
  // window the order's number picks. 9 in 10 delivered, the rest cancelled.
  await query('orders', 
    `WITH zs AS (SELECT id, (row_number() OVER (ORDER BY name) - 1)::int AS zi FROM zones WHERE name LIKE 'Growth %'),
     n AS (
       SELECT i, $5::int + (hashint4(i)::bigint & 2147483647) % ($6::int - $5::int) AS cu,
              ${start} + ${span} * ((i - $1)::float8 / ($2 - $1)) AS at
       FROM generate_series($1::int, $2::int - 1) AS i
     ),
     t AS (SELECT * FROM orders WHERE id = $7::uuid)
     INSERT INTO orders (id, user_id, status, payment_method, zone_id, address_id, address, pickup_slot_id, delivery_slot_id,
                         express, notes, currency, estimate, estimated_total, pricing_rules, final_breakdown, final_total,
                         weighed_at, bag_count, cancelled_at, flags, created_at, updated_at)
     SELECT ${uid(`'growth-order-' || n.i`)}, ${uid(`'growth-user-' || n.cu`)},
            CASE WHEN n.i % 10 = 0 THEN 'cancelled' ELSE 'delivered' END::order_status, 'on_delivery', zs.id,
            ${uid(`'growth-address-' || n.cu`)}, t.address, p.id, dl.id, false, NULL, t.currency, t.estimate, t.estimated_total,
            t.pricing_rules, CASE WHEN n.i % 10 = 0 THEN NULL ELSE t.estimate END,
            CASE WHEN n.i % 10 = 0 THEN NULL ELSE t.estimated_total END,
            CASE WHEN n.i % 10 = 0 THEN NULL ELSE p.starts_at + interval '1 hour' END,
            CASE WHEN n.i % 10 = 0 THEN NULL ELSE 1 + n.i % 3 END,
            CASE WHEN n.i % 10 = 0 THEN n.at + interval '1 hour' END, '{}'::text[], n.at, dl.ends_at
     FROM n CROSS JOIN t
     JOIN zs ON zs.zi = n.cu % $8::int
     JOIN slots p ON p.zone_id = zs.id AND p.kind = 'pickup'
       AND p.starts_at = date_trunc('day', n.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + make_interval(days => 1, hours => 8 + 2 * (n.i % $9::int))
     JOIN slots dl ON dl.zone_id = zs.id AND dl.kind = 'delivery' AND dl.starts_at = p.starts_at + interval '1 day'`,
    [n0, n1, d1, d0, u0, u1, template.orderId, ZONES, WINDOWS],
  );
  const orderIds = `generate_series($1::int, $2::int - 1) AS i JOIN orders o ON o.id = ${uid(`'growth-order-' || i`)}`;
  await query('order_lines', 
    `INSERT INTO order_lines (order_id, position, service_id, service_name, pricing_model, unit_price, express_surcharge_bps,
                              quantity, estimated_weight_grams, final_quantity, final_weight_grams, add_ons, estimated_total, final_total)
     SELECT o.id, l.position + k, l.service_id, l.service_name, l.pricing_model, l.unit_price, l.express_surcharge_bps,
            l.quantity, l.estimated_weight_grams, l.quantity, l.estimated_weight_grams, l.add_ons, l.estimated_total, l.estimated_total
     FROM ${orderIds}
     CROSS JOIN generate_series(0, 1) AS k
     CROSS JOIN (SELECT * FROM order_lines WHERE order_id = $3::uuid ORDER BY position LIMIT 1) AS l`,
    [n0, n1, template.orderId],
  );
  await query('order_events', 
    `INSERT INTO order_events (order_id, at, actor_role, actor_user_id, type, from_status, to_status)
     SELECT o.id, o.created_at + make_interval(hours => 30 * e.step), e.role::actor_role, CASE WHEN e.step = 0 THEN o.user_id END,
            e.type, e.from_status::order_status, CASE WHEN e.step = 2 THEN o.status ELSE e.to_status::order_status END
     FROM ${orderIds}
     CROSS JOIN (VALUES (0, 'customer', 'created', NULL, 'confirmed'), (1, 'staff', 'status_changed', 'confirmed', 'picked_up'),
                        (2, 'staff', 'status_changed', 'picked_up', NULL)) AS e(step, role, type, from_status, to_status)`,
    [n0, n1],
  );
  await query('idempotency_keys', 
    `INSERT INTO idempotency_keys (user_id, key, fingerprint, status_code, response, order_id, created_at)
     SELECT o.user_id, 'growth-key-' || i, md5('growth-fingerprint-' || i), 201, k.response, o.id, o.created_at
     FROM ${orderIds}
     CROSS JOIN (SELECT response FROM idempotency_keys WHERE order_id = $3::uuid LIMIT 1) AS k`,
    [n0, n1, template.orderId],
  );
  // A day's worth of login-throttle and rate-limit rows (pruned after a day by the app), one per
  // 10 orders of the slice: failed logins and registrations within the last 23 hours.
  await query('login_throttle', 
    `INSERT INTO login_throttle (email_key, failures, last_failure_at, locked_until, in_flight, in_flight_at)
     SELECT encode(sha256(('growth-throttle-' || i)::bytea), 'hex'), 1 + i % 4, now() - make_interval(mins => i % 1380), NULL, 0, NULL
     FROM generate_series($1::int / 10, $2::int / 10 - 1) AS i`,
    [n0, n1],
  );
  await query('rate_limits', 
    `INSERT INTO rate_limits (key, attempts, window_started_at)
     SELECT encode(sha256(('growth-rate-' || i)::bytea), 'hex'), 1 + i % 5, now() - make_interval(mins => i % 1380)
     FROM generate_series($1::int / 10, $2::int / 10 - 1) AS i`,
    [n0, n1],
  );
  if (skipChecks) await client.query(`SET session_replication_role = DEFAULT`);
  log(`growth: loaded ${times.join(', ')}${skipChecks ? ' (foreign-key checks skipped)' : ''}`);
}

/** Row counts of the tables the hot paths read, after ANALYZE (pg_class.reltuples). */
export async function tableRows(client: pg.ClientBase): Promise<Map<string, number>> {
  const { rows } = await client.query<{ relname: string; n: string }>(
    `SELECT c.relname, c.reltuples::bigint AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
     WHERE s.nspname = 'public' AND c.relkind = 'r'`,
  );
  return new Map(rows.map((r) => [r.relname, Math.max(0, Number(r.n))]));
}
