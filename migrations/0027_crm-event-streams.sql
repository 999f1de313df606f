-- Change events a CRM streams to us (issue 20: Salesforce Change Data Capture over the Pub/Sub API).
-- One server at a time subscribes for a workspace: it holds the lease on its `crm_event_streams` row
-- and renews it while the stream is open; another server takes over once it lapses. The replay id
-- of each topic is stored in the same transaction as the events it follows, so a restart resumes
-- after the last stored event: nothing missed within the CRM's retention, nothing stored twice.
CREATE TABLE "crm_event_streams" (
	"workspace_id" uuid PRIMARY KEY NOT NULL,
	"lease_holder" text,
	"lease_expires_at" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "crm_event_streams" ADD CONSTRAINT "crm_event_streams_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE TABLE "crm_event_stream_positions" (
	"workspace_id" uuid NOT NULL,
	"topic" text NOT NULL,
	"replay_id" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "crm_event_stream_positions_pk" PRIMARY KEY ("workspace_id","topic")
);
--> statement-breakpoint
ALTER TABLE "crm_event_stream_positions" ADD CONSTRAINT "crm_event_stream_positions_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;
