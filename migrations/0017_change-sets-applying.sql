-- Issue 17: every submission looks up, under the chain lock, the change sets of its workspace still
-- applying (their writes may land after its CRM read). They are few; the completed ones are many.
CREATE INDEX "change_sets_applying" ON "change_sets" USING btree ("workspace_id") WHERE "change_sets"."status" = 'applying';
