-- Issue 19: the console's audit search by action kind. Without this index a search for a rare kind
-- (kill_switch.engaged among a million events) read the whole workspace's log: 1 s on Postgres, 1 ms with it.
CREATE INDEX "audit_events_type" ON "audit_events" USING btree ("workspace_id","type","seq");
