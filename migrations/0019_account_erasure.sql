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
