CREATE TABLE "record_property_changes" (
	"workspace_id" uuid NOT NULL,
	"event_id" bigint NOT NULL,
	"object_type" text NOT NULL,
	"record_id" text NOT NULL,
	"property" text NOT NULL,
	"value" text,
	"occurred_at" timestamp with time zone NOT NULL,
	"kind" text NOT NULL,
	"change_source" text,
	"source_id" text,
	"agent_id" uuid,
	"change_id" uuid,
	"data" jsonb,
	"attempt_number" integer,
	CONSTRAINT "record_property_changes_workspace_id_event_id_pk" PRIMARY KEY("workspace_id","event_id")
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"workspace_id" uuid NOT NULL,
	"event_id" bigint NOT NULL,
	"subscription_type" text NOT NULL,
	"object_id" text NOT NULL,
	"property_name" text,
	"property_value" text,
	"change_source" text,
	"source_id" text,
	"occurred_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"payload" jsonb NOT NULL,
	"processed_at" timestamp with time zone,
	"outcome" text,
	CONSTRAINT "webhook_events_workspace_id_event_id_pk" PRIMARY KEY("workspace_id","event_id")
);
--> statement-breakpoint
CREATE INDEX "record_property_changes_field" ON "record_property_changes" USING btree ("workspace_id","object_type","record_id","property","occurred_at");--> statement-breakpoint
CREATE INDEX "record_property_changes_agent" ON "record_property_changes" USING btree ("workspace_id","kind","agent_id","occurred_at");--> statement-breakpoint
CREATE INDEX "webhook_events_pending" ON "webhook_events" USING btree ("workspace_id","occurred_at") WHERE processed_at is null;