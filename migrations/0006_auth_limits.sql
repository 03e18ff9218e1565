CREATE TABLE "rate_limits" (
	"key" text PRIMARY KEY NOT NULL,
	"attempts" integer NOT NULL,
	"window_started_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "login_throttle" ADD COLUMN "in_flight" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "login_throttle" ADD COLUMN "in_flight_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "disabled_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "rate_limits_window_idx" ON "rate_limits" USING btree ("window_started_at");--> statement-breakpoint
-- Staff and admin routes prepend `SELECT laundry_assert_role(<token sub>, <roles>)` to their first
-- database call (src/db/role-check.ts), in the same batch, so a demoted or disabled user is
-- refused on the next request at no extra round trip. SQLSTATE LA403 maps to 403 forbidden.
CREATE OR REPLACE FUNCTION laundry_assert_role(p_user uuid, p_roles text[]) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM users WHERE id = p_user AND disabled_at IS NULL AND role::text = ANY (p_roles)
  ) THEN
    RAISE EXCEPTION 'user % lacks the role % or is disabled', p_user, p_roles USING ERRCODE = 'LA403';
  END IF;
  RETURN true;
END
$$;
