-- The duplicate check's keys on each creation (issue 21), so a creation is matched against the ones
-- before it that the CRM's search index cannot see yet, or that another change set holds.
ALTER TABLE "record_creations" ADD COLUMN "email_key" text;--> statement-breakpoint
ALTER TABLE "record_creations" ADD COLUMN "name_key" text;--> statement-breakpoint
UPDATE "record_creations" SET "email_key" = lower(btrim("properties"->>'email'))
  WHERE "object_type" = 'contacts' AND btrim(coalesce("properties"->>'email', '')) <> '';--> statement-breakpoint
CREATE INDEX "record_creations_email_key" ON "record_creations" USING btree ("workspace_id","email_key") WHERE "record_creations"."email_key" is not null;--> statement-breakpoint
CREATE INDEX "record_creations_name_key" ON "record_creations" USING btree ("workspace_id","name_key") WHERE "record_creations"."name_key" is not null;
