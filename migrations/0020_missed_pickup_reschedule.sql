ALTER TYPE "public"."order_status" ADD VALUE 'pickup_missed';--> statement-breakpoint
ALTER TYPE "public"."notification_type" ADD VALUE 'rescheduled';--> statement-breakpoint
ALTER TYPE "public"."notification_type" ADD VALUE 'pickup_missed';--> statement-breakpoint
ALTER TABLE "zones" ADD COLUMN "missed_pickup_fee" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "zones" ADD CONSTRAINT "zones_missed_pickup_fee_nonneg" CHECK ("zones"."missed_pickup_fee" >= 0);