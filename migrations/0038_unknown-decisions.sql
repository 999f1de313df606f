-- Decisions a person made on an approval object before the mirror stored its id: kept findable so
-- the mirror can send them back to processing once it stores the id.
CREATE INDEX "webhook_events_unknown_decisions" ON "webhook_events" USING btree ("workspace_id","object_id") WHERE outcome = 'approval_object_unknown';
