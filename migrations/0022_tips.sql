CREATE TABLE "tips" (
	"id" uuid PRIMARY KEY NOT NULL,
	"order_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"driver_user_id" uuid,
	"recorded_by" uuid NOT NULL,
	"method" text NOT NULL,
	"status" text NOT NULL,
	"amount" integer NOT NULL,
	"currency" text NOT NULL,
	"percent" integer,
	"stripe_payment_intent_id" text,
	"failure_code" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "tips_amount_positive" CHECK ("tips"."amount" > 0),
	CONSTRAINT "tips_method" CHECK ("tips"."method" IN ('card', 'cash')),
	CONSTRAINT "tips_status" CHECK ("tips"."status" IN ('pending', 'processing', 'succeeded', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "tips" ADD CONSTRAINT "tips_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tips" ADD CONSTRAINT "tips_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tips" ADD CONSTRAINT "tips_driver_user_id_users_id_fk" FOREIGN KEY ("driver_user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tips" ADD CONSTRAINT "tips_recorded_by_users_id_fk" FOREIGN KEY ("recorded_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "tips_live_order_key" ON "tips" USING btree ("order_id") WHERE "tips"."status" <> 'failed';--> statement-breakpoint
CREATE UNIQUE INDEX "tips_stripe_pi_key" ON "tips" USING btree ("stripe_payment_intent_id");--> statement-breakpoint
CREATE INDEX "tips_driver_created_idx" ON "tips" USING btree ("driver_user_id","created_at");