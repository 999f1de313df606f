CREATE TABLE "governance_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"payload" jsonb NOT NULL,
	"reasons" jsonb NOT NULL,
	"status" text NOT NULL,
	"requested_by" text NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "qa_reviews" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"change_id" uuid NOT NULL,
	"change_set_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"object_type" text NOT NULL,
	"record_id" text NOT NULL,
	"property" text NOT NULL,
	"before_value" text,
	"applied_value" text,
	"status" text NOT NULL,
	"sampled_at" timestamp with time zone NOT NULL,
	"reviewed_by" text,
	"reviewed_at" timestamp with time zone,
	"note" text,
	"rollback_id" uuid
);
--> statement-breakpoint
CREATE INDEX "governance_requests_open" ON "governance_requests" USING btree ("workspace_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "qa_reviews_change" ON "qa_reviews" USING btree ("change_id");--> statement-breakpoint
CREATE INDEX "qa_reviews_queue" ON "qa_reviews" USING btree ("workspace_id","status","sampled_at");--> statement-breakpoint
CREATE INDEX "qa_reviews_agent" ON "qa_reviews" USING btree ("workspace_id","agent_id");