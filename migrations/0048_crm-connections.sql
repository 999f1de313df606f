-- One workspace may hold a HubSpot portal and a Salesforce org under one policy (issue 20). Each
-- connection is a row: its CRM, its account (a portal id, or an org id), its sealed credentials (a
-- HubSpot token, or a Salesforce connection), for HubSpot the app's client secret its webhooks are
-- signed with, and for Salesforce the access token minted last.
-- A workspace has at most one connection per CRM; an account belongs to one workspace. The
-- workspace's `hubspot_*` columns stay and still hold its first connection, so every shape that
-- reads them is unchanged; the rows below are filled from them, active workspaces only (a removed
-- workspace gives its account back, so it keeps no connection row).
CREATE TABLE "crm_connections" (
	"workspace_id" uuid NOT NULL REFERENCES "workspaces"("id"),
	"crm" text NOT NULL CHECK ("crm" IN ('hubspot', 'salesforce')),
	"account_id" text NOT NULL,
	"credentials_enc" text NOT NULL,
	"client_secret_enc" text,
	"session_enc" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	PRIMARY KEY ("workspace_id", "crm")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "crm_connections_account" ON "crm_connections" ("crm", "account_id");
--> statement-breakpoint
INSERT INTO "crm_connections" ("workspace_id", "crm", "account_id", "credentials_enc", "client_secret_enc", "session_enc", "created_at")
SELECT "id", "crm", regexp_replace("hubspot_portal_id", '^salesforce:', ''), "hubspot_token_enc", "hubspot_client_secret_enc",
	"salesforce_session_enc", "created_at"
FROM "workspaces"
WHERE "removed_at" IS NULL;
