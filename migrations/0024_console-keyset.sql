-- Issue 19: a rollback reads the value an edited approval wrote by its change id (few items are edited),
-- the console's inbox pages a workspace's pending approvals newest first by keyset, and its audit
-- search finds a person's events (only events a person did carry a CRM user id).
CREATE INDEX "approval_items_edited_change" ON "approval_items" USING btree ("change_id") WHERE "approval_items"."edited";
--> statement-breakpoint
CREATE INDEX "approvals_inbox" ON "approvals" USING btree ("workspace_id","status","created_at","id");
--> statement-breakpoint
CREATE INDEX "audit_events_person" ON "audit_events" USING btree ("workspace_id",("actor"->>'crmUserId'),"seq") WHERE ("actor"->>'crmUserId') is not null;
