-- The last signed checkpoint of each workspace's audit chain (issue 17). A server publishing a
-- checkpoint claims its workspace's row with FOR UPDATE SKIP LOCKED, so with several servers on one
-- database each checkpoint is signed and published by one of them. The row only paces publishing:
-- the checkpoints themselves live outside the database, where its owner cannot rewrite them.
CREATE TABLE "audit_checkpoints" (
	"workspace_id" uuid PRIMARY KEY NOT NULL,
	"seq" bigint NOT NULL,
	"hash" text NOT NULL,
	"checkpointed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_checkpoints" ADD CONSTRAINT "audit_checkpoints_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;
