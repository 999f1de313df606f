-- The approval object exists in every CRM a workspace connects (issue 20): each connection keeps
-- the object type id bootstrap created there (a HubSpot custom object's `2-…` id, Salesforce's
-- sObject name). Kept on the connection so a connection removed takes it along. The workspace's
-- `approval_object` stays and still holds its first connection's, which the rows below start from.
ALTER TABLE "crm_connections" ADD COLUMN "approval_object_type_id" text;
--> statement-breakpoint
UPDATE "crm_connections" AS c
SET "approval_object_type_id" = w."approval_object"->>'objectTypeId'
FROM "workspaces" AS w
WHERE w."id" = c."workspace_id" AND w."crm" = c."crm" AND w."approval_object" IS NOT NULL;
