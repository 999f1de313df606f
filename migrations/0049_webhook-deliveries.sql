-- A HubSpot webhook delivery as received (issue 18): intake stores the signed body whole in one
-- row and answers; the worker splits it into `webhook_events` (one row per event, keyed by
-- workspace and event id) and deletes it in one statement. Storing 100 indexed rows per delivery
-- before the answer cost intake half its throughput against one row.
-- Which elements go to which workspace: all of them to `workspace_id` (the usual delivery), or
-- the listed indexes of the body's array to the workspaces beside them.
CREATE TABLE "webhook_deliveries" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"received_at" timestamp with time zone NOT NULL,
	"body" jsonb NOT NULL,
	"workspace_id" uuid,
	"element_indexes" integer[],
	"element_workspaces" uuid[],
	-- Set when the row could not be split (altered in the database): set aside so it stops no other.
	"split_problem" text,
	CHECK (("workspace_id" IS NULL) = ("element_indexes" IS NOT NULL AND "element_workspaces" IS NOT NULL))
);
