-- Associations (issue 21): one row per "operation": "associate" entry of a change set, linking
-- `record_id` (of `object_type`) with `to_record_id` (of `to_object_type`), with the evidence, the
-- decision and whether the CRM had the link before we asked for it (`already_linked`, stored when
-- the CRM is read, right before the link is sent: a rollback leaves such a link, and recovery after
-- a crash knows a link it finds where there was none is ours). A held association waits until `expires_at` for the people in
-- `approved_by`. A rollback that selects it removes the link, or leaves it as a conflict when the
-- link is gone since: `rolled_back_by` names that rollback and `rollback_outcome` what it did.
CREATE TABLE "record_associations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"change_set_id" uuid NOT NULL,
	"ordinal" integer NOT NULL,
	"object_type" text NOT NULL,
	"record_id" text NOT NULL,
	"to_object_type" text NOT NULL,
	"to_record_id" text NOT NULL,
	"evidence" json NOT NULL,
	"tier" text,
	"decision" text NOT NULL,
	"reasons" text[] NOT NULL,
	"message" text,
	"already_linked" boolean,
	"approved_by" text[] DEFAULT '{}' NOT NULL,
	"expires_at" timestamp with time zone,
	"rolled_back_by" uuid,
	"rollback_outcome" text,
	"rollback_message" text
);
--> statement-breakpoint
CREATE INDEX "record_associations_change_set" ON "record_associations" USING btree ("change_set_id","ordinal");--> statement-breakpoint
CREATE INDEX "record_associations_record" ON "record_associations" USING btree ("workspace_id","record_id");
