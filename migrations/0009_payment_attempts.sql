CREATE TABLE "payment_attempts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"order_id" uuid NOT NULL,
	"operation" text NOT NULL,
	"subject" text NOT NULL,
	"attempt" integer NOT NULL,
	"idempotency_key" text NOT NULL,
	"sent_at" timestamp with time zone NOT NULL,
	"outcome" text,
	"stripe_object_id" text,
	"error" text,
	CONSTRAINT "payment_attempts_operation" CHECK ("payment_attempts"."operation" IN ('hold', 'capture', 'overage', 'balance', 'refund', 'cancel')),
	CONSTRAINT "payment_attempts_attempt_pos" CHECK ("payment_attempts"."attempt" >= 1)
);
--> statement-breakpoint
ALTER TABLE "payment_attempts" ADD CONSTRAINT "payment_attempts_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "payment_attempts_operation_key" ON "payment_attempts" USING btree ("operation","subject","attempt");--> statement-breakpoint
CREATE UNIQUE INDEX "payment_attempts_idempotency_key" ON "payment_attempts" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "payment_attempts_order_idx" ON "payment_attempts" USING btree ("order_id");