-- Safe re-enable and gates on change (issue 21). `agent_regression_cases` is the fixed set of
-- cases an operator keeps per agent: the input (a change entry or a draft) and the decision
-- expected of it, run against the policy in force before an agent stopped by a kill trigger may
-- be released. `agent_safety` holds one row per agent once anything about it is known: the end of
-- its safe mode after such a release, the prompt hash people accepted and one seen since that
-- holds its writes, and the day a person accepted its volume jump.
CREATE TABLE "agent_regression_cases" (
	"id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"ordinal" integer NOT NULL,
	"name" text NOT NULL,
	"case" json NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "agent_regression_cases_name" ON "agent_regression_cases" USING btree ("workspace_id","agent_id","name");--> statement-breakpoint
CREATE TABLE "agent_safety" (
	"workspace_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"safe_mode_until" timestamp with time zone,
	"accepted_prompt_hash" text,
	"pending_prompt_hash" text,
	"volume_accepted_day" text,
	CONSTRAINT "agent_safety_pk" PRIMARY KEY("workspace_id","agent_id")
);
