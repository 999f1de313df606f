CREATE TABLE "approval_items" (
	"approval_id" uuid NOT NULL,
	"property" text NOT NULL,
	"change_id" uuid NOT NULL,
	"before_value" text,
	"proposed_value" text,
	"edited" boolean DEFAULT false NOT NULL,
	"edited_value" text,
	"status" text NOT NULL,
	"approved_by" text[] NOT NULL,
	CONSTRAINT "approval_items_approval_id_property_pk" PRIMARY KEY("approval_id","property")
);
--> statement-breakpoint
CREATE TABLE "approvals" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"change_set_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"batch_id" text NOT NULL,
	"object_type" text NOT NULL,
	"record_id" text NOT NULL,
	"policy_version" integer NOT NULL,
	"tier" text NOT NULL,
	"status" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"record_owner_id" text,
	"delegated_user_id" text,
	"created_at" timestamp with time zone NOT NULL,
	"decided_at" timestamp with time zone,
	"applying_since" timestamp with time zone,
	"message" text
);
--> statement-breakpoint
CREATE TABLE "people" (
	"workspace_id" uuid NOT NULL,
	"crm_user_id" text NOT NULL,
	"role" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "people_workspace_id_crm_user_id_pk" PRIMARY KEY("workspace_id","crm_user_id")
);
--> statement-breakpoint
ALTER TABLE "approval_items" ADD CONSTRAINT "approval_items_approval_id_approvals_id_fk" FOREIGN KEY ("approval_id") REFERENCES "public"."approvals"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "approvals_record" ON "approvals" USING btree ("workspace_id","record_id");--> statement-breakpoint
CREATE INDEX "approvals_batch" ON "approvals" USING btree ("workspace_id","batch_id");--> statement-breakpoint
CREATE INDEX "approvals_agent" ON "approvals" USING btree ("workspace_id","agent_id");--> statement-breakpoint
CREATE INDEX "approvals_status_expiry" ON "approvals" USING btree ("status","expires_at");