CREATE TABLE "recurring_occurrences" (
	"schedule_id" uuid NOT NULL,
	"date" date NOT NULL,
	"status" text NOT NULL,
	"order_id" uuid,
	"reason" text,
	"claimed_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "recurring_occurrences_schedule_id_date_pk" PRIMARY KEY("schedule_id","date"),
	CONSTRAINT "recurring_occurrences_status" CHECK ("recurring_occurrences"."status" IN ('creating', 'created', 'needs_attention', 'skipped'))
);
--> statement-breakpoint
CREATE TABLE "recurring_pickups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"cadence" text NOT NULL,
	"anchor_date" date NOT NULL,
	"pickup_start" text NOT NULL,
	"delivery_days_after" integer NOT NULL,
	"delivery_start" text NOT NULL,
	"address_id" uuid NOT NULL,
	"items" jsonb NOT NULL,
	"express" boolean DEFAULT false NOT NULL,
	"payment_method" "payment_method" NOT NULL,
	"notes" text,
	"status" text DEFAULT 'active' NOT NULL,
	"skipped_dates" date[] DEFAULT '{}'::date[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "recurring_pickups_cadence" CHECK ("recurring_pickups"."cadence" IN ('weekly', 'biweekly')),
	CONSTRAINT "recurring_pickups_status" CHECK ("recurring_pickups"."status" IN ('active', 'paused')),
	CONSTRAINT "recurring_pickups_delivery_days" CHECK ("recurring_pickups"."delivery_days_after" BETWEEN 0 AND 14)
);
--> statement-breakpoint
ALTER TABLE "recurring_occurrences" ADD CONSTRAINT "recurring_occurrences_schedule_id_recurring_pickups_id_fk" FOREIGN KEY ("schedule_id") REFERENCES "public"."recurring_pickups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recurring_occurrences" ADD CONSTRAINT "recurring_occurrences_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recurring_pickups" ADD CONSTRAINT "recurring_pickups_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recurring_pickups" ADD CONSTRAINT "recurring_pickups_address_id_addresses_id_fk" FOREIGN KEY ("address_id") REFERENCES "public"."addresses"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "recurring_pickups_user_idx" ON "recurring_pickups" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "recurring_pickups_active_idx" ON "recurring_pickups" USING btree ("status");