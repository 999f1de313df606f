-- Alerts to people (issue 22, part 3). A channel is where alerts go (a Slack-compatible or Teams
-- incoming webhook, SMTP email, or the signed webhook); its URL and secrets are sealed together in
-- `secrets_enc`, never returned. A rule says what to watch; rules that watch the audit chain keep
-- their place in it (`cursor_seq`), rules that watch a state (approvals waiting, rates, caps) are
-- checked again at `next_check_at`. A rule is leased while it is evaluated, claimed with SKIP LOCKED.
CREATE TABLE "alert_channels" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"settings" jsonb NOT NULL,
	"secrets_enc" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "alert_channels" ADD CONSTRAINT "alert_channels_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "alert_channels_workspace_name" ON "alert_channels" USING btree ("workspace_id","name");--> statement-breakpoint
CREATE TABLE "alert_rules" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"params" jsonb NOT NULL,
	"channel_ids" jsonb NOT NULL,
	"window_minutes" integer NOT NULL,
	"cursor_seq" bigint NOT NULL,
	"next_check_at" timestamp with time zone NOT NULL,
	"lease_holder" text,
	"lease_expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "alert_rules_workspace_name" ON "alert_rules" USING btree ("workspace_id","name");--> statement-breakpoint
CREATE INDEX "alert_rules_due" ON "alert_rules" USING btree ("next_check_at");--> statement-breakpoint
-- One row per rule and subject: the last time an alert was raised for it, so a storm raises one
-- alert per window and counts the rest.
CREATE TABLE "alert_subjects" (
	"rule_id" uuid NOT NULL,
	"subject" text NOT NULL,
	"raised_at" timestamp with time zone NOT NULL,
	"suppressed" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "alert_subjects_pk" PRIMARY KEY("rule_id","subject")
);
--> statement-breakpoint
ALTER TABLE "alert_subjects" ADD CONSTRAINT "alert_subjects_rule_id_alert_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."alert_rules"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- The outbox: one row per alert and channel, written in the transaction that records the alert in
-- the audit chain, sent by the delivery job (leased, SKIP LOCKED, retried with backoff).
CREATE TABLE "alert_deliveries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"channel_id" uuid NOT NULL,
	"alert" jsonb NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"last_error" text,
	"lease_holder" text,
	"lease_expires_at" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_channel_id_alert_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."alert_channels"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alert_deliveries_due" ON "alert_deliveries" USING btree ("next_attempt_at") WHERE "status" = 'pending';
--> statement-breakpoint
-- Every signed audit checkpoint (issue 17) is kept too, so SIEM destinations are sent them beside
-- the events they sign (issue 22): `checkpoint_cursor_seq` is the seq of the last checkpoint a
-- destination acknowledged. A workspace's checkpoints are signed one at a time, in seq order.
CREATE TABLE "audit_checkpoint_log" (
	"workspace_id" uuid NOT NULL,
	"seq" bigint NOT NULL,
	"checkpoint" jsonb NOT NULL,
	CONSTRAINT "audit_checkpoint_log_pk" PRIMARY KEY("workspace_id","seq")
);
--> statement-breakpoint
ALTER TABLE "audit_checkpoint_log" ADD CONSTRAINT "audit_checkpoint_log_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "siem_destinations" ADD COLUMN "checkpoint_cursor_seq" bigint DEFAULT 0 NOT NULL;
