-- A confirmation being carried out holds its request until this time: the change takes effect first
-- and the request is settled after, so a change that fails leaves the request pending, not confirmed.
ALTER TABLE "governance_requests" ADD COLUMN "confirming_until" timestamp with time zone;
