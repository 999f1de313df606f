-- Audit streaming to SIEMs (issue 22): each row is a destination and its own queue. `cursor_seq` is
-- the last seq of the workspace's audit chain it has acknowledged; delivery reads the chain after it,
-- so a restart or an outage resumes where it stopped. A server takes a destination for one delivery
-- by setting the lease (claimed with SKIP LOCKED), so several servers on one database share the work.
CREATE TABLE "siem_destinations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"url" text NOT NULL,
	"secret_enc" text,
	"down_after_seconds" integer NOT NULL,
	"cursor_seq" bigint NOT NULL,
	"delivered_at" timestamp with time zone,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"failing_since" timestamp with time zone,
	"last_error" text,
	"down_recorded_at" timestamp with time zone,
	"lease_holder" text,
	"lease_expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "siem_destinations" ADD CONSTRAINT "siem_destinations_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "siem_destinations_workspace_name" ON "siem_destinations" USING btree ("workspace_id","name");--> statement-breakpoint
CREATE INDEX "siem_destinations_due" ON "siem_destinations" USING btree ("next_attempt_at");
