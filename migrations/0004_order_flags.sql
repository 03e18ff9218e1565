-- Expand: every open flag of an order, not just the latest (src/modules/orders/flags.ts).
-- flagged_reason stays, written as the latest flag, for the release before this one; a later
-- release can contract it once nothing reads it.
ALTER TABLE "orders" ADD COLUMN "flags" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
UPDATE "orders" SET "flags" = ARRAY["flagged_reason"] WHERE "flagged_reason" IS NOT NULL;
