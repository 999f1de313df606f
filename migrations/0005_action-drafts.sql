CREATE TABLE "action_outcomes" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"action_id" uuid NOT NULL,
	"outcome" text NOT NULL,
	"provider_message_id" text,
	"detail" text,
	"crm_note_id" text,
	"reported_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "actions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"object_type" text NOT NULL,
	"record_id" text NOT NULL,
	"policy_version" integer NOT NULL,
	"tier" text,
	"status" text NOT NULL,
	"reasons" text[] NOT NULL,
	"content" jsonb NOT NULL,
	"edited_content" jsonb,
	"evidence" jsonb NOT NULL,
	"recipient_email" text,
	"record_owner_id" text,
	"delegated_user_id" text,
	"approved_by" text[] DEFAULT '{}' NOT NULL,
	"expires_at" timestamp with time zone,
	"content_hash" text,
	"release_token_hash" text,
	"release_token_sealed" text,
	"released_at" timestamp with time zone,
	"decided_at" timestamp with time zone,
	"crm_object_id" text,
	"message" text,
	"idempotency_key" text,
	"request_hash" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "contact_stops" (
	"workspace_id" uuid NOT NULL,
	"contact_id" text NOT NULL,
	"reason" text NOT NULL,
	"action_id" uuid NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "contact_stops_workspace_id_contact_id_reason_pk" PRIMARY KEY("workspace_id","contact_id","reason")
);
--> statement-breakpoint
ALTER TABLE "action_outcomes" ADD CONSTRAINT "action_outcomes_action_id_actions_id_fk" FOREIGN KEY ("action_id") REFERENCES "public"."actions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "action_outcomes_action" ON "action_outcomes" USING btree ("action_id");--> statement-breakpoint
CREATE INDEX "actions_record" ON "actions" USING btree ("workspace_id","record_id");--> statement-breakpoint
CREATE INDEX "actions_agent" ON "actions" USING btree ("workspace_id","agent_id");--> statement-breakpoint
CREATE INDEX "actions_status_expiry" ON "actions" USING btree ("status","expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "actions_idempotency" ON "actions" USING btree ("workspace_id","agent_id","idempotency_key");