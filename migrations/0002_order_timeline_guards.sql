-- The order timeline is customer-visible history: rows are appended, never changed.
CREATE FUNCTION order_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'order_events is append-only' USING ERRCODE = 'restrict_violation';
END $$;--> statement-breakpoint
CREATE TRIGGER order_events_no_update_delete
  BEFORE UPDATE OR DELETE ON order_events
  FOR EACH ROW EXECUTE FUNCTION order_events_append_only();--> statement-breakpoint
-- Lets one statement abort itself with a named reason (SQLSTATE P0001, message = reason), so
-- a multi-row write that finds a rule broken half-way rolls back whole, without a transaction.
CREATE FUNCTION laundry_abort(reason text) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%', reason USING ERRCODE = 'P0001';
END $$;
