-- Scoped kill switches and quarantine (issue 21, points 5 and 6).
-- A segment switch defined by a record condition keeps the condition (the policy's record_matches
-- language, without raiseTo) in `condition`; its `target` is a canonical text of it, so the key
-- (workspace, scope, target) still names one switch.
ALTER TABLE "kill_switches" ADD COLUMN "condition" jsonb;--> statement-breakpoint
-- The template family an agent tagged a draft with, so a template kill switch can stop it.
ALTER TABLE "actions" ADD COLUMN "template" text;--> statement-breakpoint
-- One quarantine per kill switch engagement that names an agent: the row is also the job. A worker
-- claims it with a lease, collects the records the agent wrote in the window into record_reviews,
-- then marks them in the CRM batch by batch; a worker that dies leaves the lease to lapse and
-- another carries on with the reviews not yet marked.
CREATE TABLE "quarantines" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"reason" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"window_end" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"lease_holder" text,
	"lease_expires_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "quarantines_open" ON "quarantines" USING btree ("lease_expires_at") WHERE status <> 'completed';--> statement-breakpoint
-- A record marked for review by a quarantine: `crm_marked` once ag_needs_review is set on it,
-- `cleared_at` once a person cleared it or a rollback covered it (`cleared_by` says which).
CREATE TABLE "record_reviews" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"quarantine_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"object_type" text NOT NULL,
	"record_id" text NOT NULL,
	"reason" text NOT NULL,
	"crm_marked" boolean DEFAULT false NOT NULL,
	"marked_at" timestamp with time zone NOT NULL,
	"cleared_at" timestamp with time zone,
	"cleared_by" text,
	"crm_cleared" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "record_reviews_open" ON "record_reviews" USING btree ("workspace_id","object_type","record_id") WHERE cleared_at IS NULL;--> statement-breakpoint
CREATE INDEX "record_reviews_quarantine" ON "record_reviews" USING btree ("quarantine_id") WHERE crm_marked = false;
--> statement-breakpoint
CREATE INDEX "record_reviews_to_unmark" ON "record_reviews" USING btree ("workspace_id") WHERE cleared_at IS NOT NULL AND crm_marked = true AND crm_cleared = false;
