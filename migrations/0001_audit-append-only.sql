-- The audit log is evidence: the database itself refuses to change or remove an event.
-- A superuser can still disable this trigger. `audit verify` then catches an edit, removal or
-- reordering that leaves the later hashes as they were; one who recomputes the chain, or removes the
-- newest events and moves the head back, is caught only by `audit verify --checkpoints`, and only up
-- to the last signed checkpoint (issue 17; see the README's Audit events). Only this comment changed
-- since the migration first ran; the migrator does not compare applied migrations' text.
CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_events_append_only
  BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate
  BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();
