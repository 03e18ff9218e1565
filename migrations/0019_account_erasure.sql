CREATE TABLE "account_erasure_tasks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"reference" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"locked_until" timestamp with time zone,
	"done_at" timestamp with time zone,
	"outcome" text,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "account_erasure_tasks_kind" CHECK ("account_erasure_tasks"."kind" IN ('stripe_customer_delete', 'apple_token_revoke'))
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "erased_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "user_identities" ADD COLUMN "apple_refresh_token_sealed" text;--> statement-breakpoint
ALTER TABLE "account_erasure_tasks" ADD CONSTRAINT "account_erasure_tasks_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "account_erasure_tasks_due_idx" ON "account_erasure_tasks" USING btree ("next_attempt_at") WHERE done_at IS NULL;--> statement-breakpoint
CREATE INDEX "account_erasure_tasks_user_idx" ON "account_erasure_tasks" USING btree ("user_id");--> statement-breakpoint
-- Account erasure (src/modules/account/erase.ts) may clear the free text a customer wrote on the
-- timeline (a cancellation reason): an UPDATE of a customer's entry that sets `note` to null and
-- changes nothing else. Every other UPDATE or DELETE is still refused: history is never rewritten.
CREATE OR REPLACE FUNCTION order_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.actor_role = 'customer' AND NEW.note IS NULL
     AND (to_jsonb(NEW) - 'note') = (to_jsonb(OLD) - 'note') THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'order_events is append-only' USING ERRCODE = 'restrict_violation';
END $$;
--> statement-breakpoint
-- An erased account is never notified again (a refund on one of its kept orders, say): the
-- outbox trigger of migration 0014, unchanged but for `u.erased_at IS NULL`.
CREATE OR REPLACE FUNCTION notification_outbox_from_order_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  kind notification_type;
BEGIN
  IF NEW.to_status IS NOT NULL AND NEW.to_status IS DISTINCT FROM NEW.from_status
     AND NEW.to_status IN ('confirmed', 'picked_up', 'ready', 'out_for_delivery', 'delivered', 'cancelled') THEN
    kind := CASE NEW.to_status WHEN 'confirmed' THEN 'order_confirmed' ELSE NEW.to_status::text END::notification_type;
  ELSIF NEW.notify IS NOT NULL THEN
    kind := NEW.notify;
  ELSE
    RETURN NULL;
  END IF;
  INSERT INTO notification_outbox (user_id, order_id, type, dedupe_key, data, created_at)
  SELECT o.user_id, o.id, kind, 'order_event:' || NEW.id,
         jsonb_strip_nulls(jsonb_build_object(
           'orderId', o.id,
           'status', NEW.to_status,
           'bagCount', NEW.evidence -> 'bagCount',
           'cancelledBy', CASE WHEN NEW.to_status = 'cancelled' THEN NEW.actor_role::text END,
           'amount', NEW.evidence -> 'amount',
           'currency', CASE WHEN NEW.evidence ? 'amount' THEN o.currency END)),
         NEW.at
  FROM orders o JOIN users u ON u.id = o.user_id
  WHERE o.id = NEW.order_id AND NOT u.synthetic AND u.erased_at IS NULL
  ON CONFLICT (dedupe_key) DO NOTHING;
  RETURN NULL;
END $$;
