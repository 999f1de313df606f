-- Issue 19: a rollback reads the value an edited approval wrote by its change id; few items are edited.
CREATE INDEX "approval_items_edited_change" ON "approval_items" USING btree ("change_id") WHERE "approval_items"."edited";
