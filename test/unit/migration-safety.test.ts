/**
 * Every migration must keep the previous release working (a rollback brings back old code,
 * never an old schema). Destructive statements need an explicit `-- contract: <reason>`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkMigrationSql,
  checkMigrationsFolder,
  contractReason,
  formatViolations,
  statementRules,
  stripSql,
} from '../../tools/release/migration-safety.js';

describe('the real migrations', () => {
  it('are all expand-only, or carry a documented contract marker', () => {
    const { files, violations, contracts } = checkMigrationsFolder('migrations');
    expect(files.length).toBeGreaterThanOrEqual(4);
    expect(violations, formatViolations(violations)).toEqual([]);
    for (const c of contracts) expect(c.reason.length).toBeGreaterThan(4);
  });

  it('match drizzle’s journal one to one (a file the journal does not list is never applied)', () => {
    const journal = JSON.parse(readFileSync('migrations/meta/_journal.json', 'utf8')) as { entries: { tag: string }[] };
    const { files } = checkMigrationsFolder('migrations');
    expect(files).toEqual(journal.entries.map((e) => `${e.tag}.sql`));
  });
});

describe('each rule fires', () => {
  const cases: [string, string][] = [
    ['DROP TABLE "orders";', 'drop table'],
    ['DROP TABLE IF EXISTS legacy_orders CASCADE;', 'drop table'],
    ['ALTER TABLE "orders" DROP COLUMN "notes";', 'drop column'],
    ['ALTER TABLE orders DROP notes;', 'drop column'],
    ['ALTER TABLE "orders" DROP COLUMN IF EXISTS "notes" CASCADE;', 'drop column'],
    ['ALTER TABLE "orders" RENAME COLUMN "notes" TO "customer_notes";', 'rename column'],
    ['ALTER TABLE orders RENAME notes TO customer_notes;', 'rename column'],
    ['ALTER TABLE "orders" RENAME TO "bookings";', 'rename table'],
    ['ALTER TABLE "slots" RENAME CONSTRAINT "slots_capacity" TO "slots_capacity_check";', 'rename constraint'],
    ['ALTER TABLE "orders" ALTER COLUMN "notes" SET DATA TYPE varchar(100);', 'column type change'],
    ['ALTER TABLE orders ALTER notes TYPE varchar(100) USING left(notes, 100);', 'column type change'],
    ['ALTER TABLE "orders" ALTER COLUMN "estimated_total" SET DATA TYPE bigint;', 'column type change'],
    ['ALTER TABLE "orders" ALTER COLUMN "notes" SET NOT NULL;', 'set not null'],
    ['ALTER TABLE "orders" ALTER COLUMN "express" DROP DEFAULT;', 'drop default'],
    ['ALTER TABLE "orders" ADD COLUMN "channel" text NOT NULL;', 'add not null column without default'],
    ['ALTER TABLE orders ADD channel text NOT NULL REFERENCES channels(id);', 'add not null column without default'],
    ['ALTER TABLE "orders" ADD COLUMN "legacy_id" uuid PRIMARY KEY;', 'add not null column without default'],
    ['DROP TYPE "public"."payment_method";', 'drop type'],
    ['ALTER TYPE "public"."order_status" RENAME VALUE \'ready\' TO \'ready_for_delivery\';', 'rename enum value'],
    ['ALTER TYPE "public"."order_status" RENAME TO "order_status_old";', 'rename'],
    ["DELETE FROM pg_enum WHERE enumlabel = 'cash';", 'enum value removal'],
    ['DROP FUNCTION laundry_abort(text);', 'drop function'],
    ['DROP VIEW order_totals;', 'drop view'],
  ];
  it.each(cases)('%s → %s', (sql, rule) => {
    const violations = checkMigrationSql(sql, '9999_test.sql');
    expect(violations.map((v) => v.rule)).toContain(rule);
    expect(violations[0]).toMatchObject({ file: '9999_test.sql' });
  });

  it('finds every offending action in a multi-action ALTER TABLE', () => {
    expect(statementRules('ALTER TABLE orders ADD COLUMN a int, DROP COLUMN b, ALTER COLUMN c TYPE bigint')).toEqual(['drop column', 'column type change']);
  });

  it('reads drizzle-kit’s statement breakpoints', () => {
    const sql = 'ALTER TABLE "orders" ADD COLUMN "x" text;--> statement-breakpoint\nALTER TABLE "orders" DROP COLUMN "notes";--> statement-breakpoint\n';
    expect(checkMigrationSql(sql).map((v) => v.rule)).toEqual(['drop column']);
  });
});

describe('expand-only statements pass', () => {
  const safe = [
    'CREATE TABLE "channels" ("id" uuid PRIMARY KEY NOT NULL, "name" text NOT NULL);',
    'ALTER TABLE "orders" ADD COLUMN "channel" text;',
    'ALTER TABLE "orders" ADD COLUMN "priority" integer DEFAULT 0 NOT NULL;',
    'ALTER TABLE "orders" ADD COLUMN IF NOT EXISTS "seq" bigint GENERATED ALWAYS AS IDENTITY NOT NULL;',
    'ALTER TABLE "orders" ADD CONSTRAINT "orders_channel_fk" FOREIGN KEY ("channel") REFERENCES "channels"("id") NOT VALID;',
    'ALTER TABLE "orders" ALTER COLUMN "notes" DROP NOT NULL;',
    'ALTER TABLE "orders" ALTER COLUMN "priority" SET DEFAULT 1;',
    'ALTER TABLE "orders" DROP CONSTRAINT "orders_totals_nonneg";',
    'CREATE INDEX CONCURRENTLY "orders_channel_idx" ON "orders" ("channel");',
    'DROP INDEX "orders_channel_idx";',
    'ALTER TYPE "public"."order_status" ADD VALUE \'on_hold\';',
    "COMMENT ON COLUMN orders.notes IS 'we will DROP TABLE orders one day; RENAME later';",
    '-- DROP TABLE "orders"; (only a comment)\nSELECT 1;',
    'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE \'DROP TABLE x\'; END $$;',
    "CREATE FUNCTION g() RETURNS void LANGUAGE plpgsql AS $body$ BEGIN DROP TABLE tmp_x; END $body$;",
  ];
  it.each(safe)('%s', (sql) => {
    expect(checkMigrationSql(sql)).toEqual([]);
  });
});

describe('the contract marker', () => {
  const contract = '-- contract: orders.notes unused since release 2026-11-01 (#42); nothing reads it\nALTER TABLE "orders" DROP COLUMN "notes";';

  it('exempts a file that documents why the destructive step is safe now', () => {
    expect(contractReason(contract)).toBe('orders.notes unused since release 2026-11-01 (#42); nothing reads it');
    expect(checkMigrationSql(contract)).toEqual([]);
  });

  it('needs a reason, and must be a comment of its own', () => {
    expect(checkMigrationSql('-- contract:\nDROP TABLE x;')).toHaveLength(1);
    expect(checkMigrationSql('-- contract: ok\nDROP TABLE x;')).toHaveLength(1);
    expect(checkMigrationSql("SELECT '-- contract: sneaky reason here';\nDROP TABLE x;")).toHaveLength(1);
  });

  it('the failure message says how to fix it', () => {
    const text = formatViolations(checkMigrationSql('DROP TABLE x;', '0009_x.sql'));
    expect(text).toContain('0009_x.sql: drop table: DROP TABLE x');
    expect(text).toContain('-- contract: <why it is safe now>');
  });

  it('strips comments, strings and dollar-quoted bodies before matching', () => {
    expect(stripSql("a -- b\nc /* d */ 'e''f' $$g$$ $t$h$t$ i").replace(/\s+/g, ' ').trim()).toBe("a c '' '' '' i");
  });
});
