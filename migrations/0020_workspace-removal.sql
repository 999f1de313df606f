-- A removed workspace keeps its rows and its audit chain; only an active one holds its portal,
-- so the same HubSpot account can be connected again once the wrong workspace is removed.
ALTER TABLE "workspaces" ADD COLUMN "removed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "workspaces" DROP CONSTRAINT "workspaces_hubspot_portal_id_unique";--> statement-breakpoint
CREATE UNIQUE INDEX "workspaces_active_portal" ON "workspaces" USING btree ("hubspot_portal_id") WHERE "workspaces"."removed_at" is null;
