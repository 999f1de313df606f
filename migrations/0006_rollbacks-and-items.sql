CREATE TABLE "rollback_items" (
	"rollback_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"workspace_id" uuid NOT NULL,
	"object_type" text NOT NULL,
	"record_id" text NOT NULL,
	"property" text NOT NULL,
	"change_ids" uuid[] NOT NULL,
	"selected_from" timestamp with time zone NOT NULL,
	"restore_value" text,
	"expected_value" text,
	"state" text NOT NULL,
	"forced" boolean DEFAULT false NOT NULL,
	"conflict" jsonb,
	"value_found" text,
	"revert_change_id" uuid,
	"attempts" integer DEFAULT 0 NOT NULL,
	"message" text,
	"settled_at" timestamp with time zone,
	CONSTRAINT "rollback_items_rollback_id_seq_pk" PRIMARY KEY("rollback_id","seq")
);
--> statement-breakpoint
CREATE TABLE "rollbacks" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"selector" jsonb NOT NULL,
	"selector_key" text NOT NULL,
	"force" boolean NOT NULL,
	"status" text NOT NULL,
	"status_reason" text,
	"actor" jsonb NOT NULL,
	"agent_id" uuid NOT NULL,
	"change_set_ids" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"total" integer NOT NULL,
	"lease_holder" text,
	"lease_expires_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "rollback_items_state" ON "rollback_items" USING btree ("rollback_id","state","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "rollbacks_active_selector" ON "rollbacks" USING btree ("workspace_id","selector_key") WHERE status <> 'completed';--> statement-breakpoint
CREATE INDEX "rollbacks_running" ON "rollbacks" USING btree ("lease_expires_at") WHERE status = 'running';