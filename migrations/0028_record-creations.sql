-- Record creation (issue 21): one row per "operation": "create" entry of a change set, with the
-- properties and evidence the agent sent, the decision, the likely duplicate it was matched to
-- (`duplicate_of`, a CRM record id) and, once the CRM created it, the new record's id. `ordinal`
-- is the entry's place in the request; `create_ref` is written on the new record so that a
-- batch's created records can be told apart in the CRM's answer. A rollback that selects a
-- created record archives it, or leaves it as a conflict when a person touched it since:
-- `rolled_back_by` names that rollback and `rollback_outcome` what it did. A held creation waits
-- until `expires_at` for the people in `approved_by` (two for `two_person`).
CREATE TABLE "record_creations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"change_set_id" uuid NOT NULL,
	"ordinal" integer NOT NULL,
	"object_type" text NOT NULL,
	"properties" json NOT NULL,
	"evidence" json NOT NULL,
	"tier" text,
	"decision" text NOT NULL,
	"reasons" text[] NOT NULL,
	"duplicate_of" text,
	"record_id" text,
	"message" text,
	"approved_by" text[] DEFAULT '{}' NOT NULL,
	"expires_at" timestamp with time zone,
	"rolled_back_by" uuid,
	"rollback_outcome" text,
	"rollback_message" text
);
--> statement-breakpoint
CREATE INDEX "record_creations_change_set" ON "record_creations" USING btree ("change_set_id","ordinal");--> statement-breakpoint
CREATE INDEX "record_creations_record" ON "record_creations" USING btree ("workspace_id","record_id") WHERE "record_creations"."record_id" is not null;
