-- Refunds to account credit (issue 19) in the order's balance and in the customer's message.
-- Expand-only: an index, a view column appended at the end, and the outbox trigger passing one
-- more field; code of the previous release runs unchanged against it.
--
-- Every read of an order's balance now sums its `refund_to_credit` entries by order
-- (orderQuery, this view, refund-credit.ts): an index instead of a scan of the whole ledger.
CREATE INDEX "credit_entries_order_idx" ON "credit_entries" USING btree ("order_id") WHERE "credit_entries"."order_id" IS NOT NULL;--> statement-breakpoint
-- The twin of src/domain/balance.ts gains `refunded_to_credit`; `outstanding` is unchanged (money
-- given back as credit is not money owed). CREATE OR REPLACE VIEW keeps every existing column in
-- place and can only append, hence last (and no DROP: nothing that reads the view is disturbed).
CREATE OR REPLACE VIEW "public"."order_balances" AS (
  SELECT o.id AS order_id, b.due, b.authorised, b.paid, b.refunded, b.waived,
         GREATEST(0, b.due - b.paid - b.waived)::int AS outstanding,
         COALESCE((SELECT sum(ce.amount) FROM credit_entries ce WHERE ce.order_id = o.id AND ce.reason = 'refund_to_credit'), 0)::int AS refunded_to_credit
  FROM orders o
  CROSS JOIN LATERAL (
    SELECT (CASE WHEN o.status = 'cancelled' THEN 0 ELSE COALESCE(o.final_total, o.estimated_total) END)::int AS due,
           COALESCE((SELECT sum(p.amount_capturable) FROM payments p WHERE p.order_id = o.id AND p.status::text = 'requires_capture'), 0)::int AS authorised,
           COALESCE((SELECT sum(p.amount_captured) FROM payments p WHERE p.order_id = o.id), 0)::int AS paid,
           COALESCE((SELECT sum(p.amount_refunded) FROM payments p WHERE p.order_id = o.id), 0)::int AS refunded,
           (COALESCE((SELECT sum(p.amount) FROM payments p WHERE p.order_id = o.id AND p.status::text = 'waived'), 0)
            + COALESCE((SELECT sum(w.amount) FROM balance_waivers w WHERE w.order_id = o.id), 0))::int AS waived
  ) b);--> statement-breakpoint
-- As in migration 0019, plus `destination` for `refund_issued` (the timeline entry's evidence:
-- 'credit' for a refund to account credit, absent for a card refund), so the message can say
-- where the money went (src/notifications/templates.ts). Nothing else changes.
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
           'currency', CASE WHEN NEW.evidence ? 'amount' THEN o.currency END,
           'destination', CASE WHEN kind = 'refund_issued' THEN NEW.evidence ->> 'destination' END)),
         NEW.at
  FROM orders o JOIN users u ON u.id = o.user_id
  WHERE o.id = NEW.order_id AND NOT u.synthetic AND u.erased_at IS NULL
  ON CONFLICT (dedupe_key) DO NOTHING;
  RETURN NULL;
END $$;
