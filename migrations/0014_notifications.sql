CREATE TYPE "public"."notification_delivery_state" AS ENUM('pending', 'sent', 'failed', 'dead', 'skipped');--> statement-breakpoint
CREATE TYPE "public"."notification_channel" AS ENUM('push', 'sms', 'email');--> statement-breakpoint
CREATE TYPE "public"."notification_type" AS ENUM('order_confirmed', 'picked_up', 'ready', 'out_for_delivery', 'delivered', 'cancelled', 'payment_action_required', 'refund_issued', 'pickup_reminder');--> statement-breakpoint
CREATE TABLE "devices" (
	"token" text PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"platform" text NOT NULL,
	"app_version" text,
	"locale" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "devices_platform" CHECK ("devices"."platform" IN ('ios', 'android'))
);
--> statement-breakpoint
CREATE TABLE "notification_deliveries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "notification_deliveries_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"outbox_id" bigint NOT NULL,
	"channel" "notification_channel" NOT NULL,
	"recipient" text NOT NULL,
	"state" "notification_delivery_state" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"locked_until" timestamp with time zone,
	"last_error" text,
	"provider_message_id" text,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "notification_deliveries_once" UNIQUE("outbox_id","channel","recipient")
);
--> statement-breakpoint
CREATE TABLE "notification_outbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "notification_outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"user_id" uuid NOT NULL,
	"order_id" uuid,
	"type" "notification_type" NOT NULL,
	"dedupe_key" text NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"enqueued_at" timestamp with time zone,
	"dispatched_at" timestamp with time zone,
	"read_at" timestamp with time zone,
	CONSTRAINT "notification_outbox_dedupe_key" UNIQUE("dedupe_key")
);
--> statement-breakpoint
CREATE TABLE "notification_preferences" (
	"user_id" uuid NOT NULL,
	"type" "notification_type" NOT NULL,
	"channel" "notification_channel" NOT NULL,
	"enabled" boolean NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "notification_preferences_user_id_type_channel_pk" PRIMARY KEY("user_id","type","channel")
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "phone" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "locale" text;--> statement-breakpoint
ALTER TABLE "order_events" ADD COLUMN "notify" "notification_type";--> statement-breakpoint
ALTER TABLE "devices" ADD CONSTRAINT "devices_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_outbox_id_notification_outbox_id_fk" FOREIGN KEY ("outbox_id") REFERENCES "public"."notification_outbox"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_outbox" ADD CONSTRAINT "notification_outbox_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_outbox" ADD CONSTRAINT "notification_outbox_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_preferences" ADD CONSTRAINT "notification_preferences_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "devices_user_idx" ON "devices" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "notification_deliveries_due_idx" ON "notification_deliveries" USING btree ("next_attempt_at") WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX "notification_deliveries_state_idx" ON "notification_deliveries" USING btree ("state","updated_at");--> statement-breakpoint
CREATE INDEX "notification_outbox_undispatched_idx" ON "notification_outbox" USING btree ("created_at") WHERE dispatched_at IS NULL;--> statement-breakpoint
CREATE INDEX "notification_outbox_user_idx" ON "notification_outbox" USING btree ("user_id","id" DESC NULLS LAST);--> statement-breakpoint
-- The transactional outbox, fed from the order timeline: every entry that moves an order to a
-- status customers are told about, or that names a notification in `notify`, writes one outbox
-- row in the same statement as the change (a change that fails writes none; one that is
-- replayed writes none twice: the dedupe key is the timeline entry's id). Synthetic customers
-- (release probes) are never notified.
CREATE FUNCTION notification_outbox_from_order_event() RETURNS trigger LANGUAGE plpgsql AS $$
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
  WHERE o.id = NEW.order_id AND NOT u.synthetic
  ON CONFLICT (dedupe_key) DO NOTHING;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER order_events_notify
  AFTER INSERT ON order_events
  FOR EACH ROW EXECUTE FUNCTION notification_outbox_from_order_event();
