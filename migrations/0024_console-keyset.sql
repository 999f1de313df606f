-- Issue 19: a rollback reads the value an edited approval wrote by its change id (few items are edited),
-- and the console's inbox pages a workspace's pending approvals newest first by keyset.
CREATE INDEX "approval_items_edited_change" ON "approval_items" USING btree ("change_id") WHERE "approval_items"."edited";
--> statement-breakpoint
CREATE INDEX "approvals_inbox" ON "approvals" USING btree ("workspace_id","status","created_at","id");
