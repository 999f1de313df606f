CREATE TABLE "team_roles" (
	"workspace_id" uuid NOT NULL,
	"team_id" text NOT NULL,
	"role" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "team_roles_workspace_id_team_id_pk" PRIMARY KEY("workspace_id","team_id")
);
