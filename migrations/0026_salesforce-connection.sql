-- Salesforce orgs (issue 20). A workspace's `crm` may now be 'salesforce': its `hubspot_portal_id`
-- then holds `salesforce:<org id>` (the CRM account the workspace is unique for) and
-- `hubspot_token_enc` the sealed connection (login URL and the External Client App's credentials).
-- The access token minted from them is kept here, sealed, and replaced each time it is renewed.
ALTER TABLE "workspaces" ADD COLUMN "salesforce_session_enc" text;
