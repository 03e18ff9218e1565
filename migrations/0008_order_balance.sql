-- The view compares payment_status as text: 'waived' is added by 0007 in the same migration
-- transaction, and PostgreSQL refuses a new enum value as a constant before it is committed.
ALTER TYPE "public"."payment_kind" ADD VALUE 'balance';--> statement-breakpoint
CREATE TABLE "balance_waivers" (
	"id" uuid PRIMARY KEY NOT NULL,
	"order_id" uuid NOT NULL,
	"amount" integer NOT NULL,
	"reason" text NOT NULL,
	"actor_user_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "balance_waivers_amount_pos" CHECK ("balance_waivers"."amount" > 0)
);
--> statement-breakpoint
DROP INDEX "payments_order_kind_key";--> statement-breakpoint
ALTER TABLE "balance_waivers" ADD CONSTRAINT "balance_waivers_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "balance_waivers" ADD CONSTRAINT "balance_waivers_actor_user_id_users_id_fk" FOREIGN KEY ("actor_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "balance_waivers_order_idx" ON "balance_waivers" USING btree ("order_id");--> statement-breakpoint
CREATE INDEX "payments_order_idx" ON "payments" USING btree ("order_id");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_order_kind_key" ON "payments" USING btree ("order_id","kind") WHERE "payments"."kind" IN ('hold', 'overage');--> statement-breakpoint
CREATE VIEW "public"."order_balances" AS (
  SELECT o.id AS order_id, b.due, b.authorised, b.paid, b.refunded, b.waived,
         GREATEST(0, b.due - b.paid - b.waived)::int AS outstanding
  FROM orders o
  CROSS JOIN LATERAL (
    SELECT (CASE WHEN o.status = 'cancelled' THEN 0 ELSE COALESCE(o.final_total, o.estimated_total) END)::int AS due,
           COALESCE((SELECT sum(p.amount_capturable) FROM payments p WHERE p.order_id = o.id AND p.status::text = 'requires_capture'), 0)::int AS authorised,
           COALESCE((SELECT sum(p.amount_captured) FROM payments p WHERE p.order_id = o.id), 0)::int AS paid,
           COALESCE((SELECT sum(p.amount_refunded) FROM payments p WHERE p.order_id = o.id), 0)::int AS refunded,
           (COALESCE((SELECT sum(p.amount) FROM payments p WHERE p.order_id = o.id AND p.status::text = 'waived'), 0)
            + COALESCE((SELECT sum(w.amount) FROM balance_waivers w WHERE w.order_id = o.id), 0))::int AS waived
  ) b);