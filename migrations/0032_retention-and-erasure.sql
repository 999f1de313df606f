-- Retention and erasure (issue 21, point 11). Personal values inside an audit event are kept
-- apart, in `audit_personal_data`, one row per event that had any: the event itself holds
-- "[redacted]" in their place and, in `data.personal.digest`, the SHA-256 of the row's salt and
-- values, so the hash chain covers them without holding them. Deleting a row (retention, or an
-- erasure request for one person) leaves the chain verifying; `audit verify` checks every row
-- still present against its digest. This table is not append-only: deleting from it is its purpose.
-- `emails` are the lower-cased addresses found in the values, so an erasure by address finds them.
CREATE TABLE "audit_personal_data" (
	"workspace_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"object_type" text,
	"record_id" text,
	"emails" text[] DEFAULT '{}' NOT NULL,
	"salt" text NOT NULL,
	"values" json NOT NULL,
	CONSTRAINT "audit_personal_data_pkey" PRIMARY KEY ("workspace_id", "seq")
);
--> statement-breakpoint
CREATE INDEX "audit_personal_data_time" ON "audit_personal_data" USING btree ("workspace_id", "occurred_at");--> statement-breakpoint
CREATE INDEX "audit_personal_data_record" ON "audit_personal_data" USING btree ("workspace_id", "object_type", "record_id");--> statement-breakpoint
CREATE INDEX "audit_personal_data_emails" ON "audit_personal_data" USING gin ("emails");--> statement-breakpoint
-- A workspace's retention periods in days (null keeps for ever) and the state of its retention
-- job: the row is the job. A run fixes its cutoffs in `run` when it starts and adds what each
-- batch removed to it in the batch's transaction, so a server that dies mid-run leaves a run that
-- the next holder of the lease finishes with the same cutoffs and the right totals.
CREATE TABLE "workspace_retention" (
	"workspace_id" uuid PRIMARY KEY NOT NULL REFERENCES "workspaces"("id"),
	"change_records_days" integer,
	"drafts_days" integer,
	"webhook_payloads_days" integer,
	"audit_personal_data_days" integer,
	"next_run_at" timestamp with time zone NOT NULL,
	"run" json,
	"lease_holder" text,
	"lease_expires_at" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "workspace_retention_due" ON "workspace_retention" USING btree ("next_run_at");
