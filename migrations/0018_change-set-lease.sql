ALTER TABLE "change_sets" ADD COLUMN "lease_holder" text;--> statement-breakpoint
ALTER TABLE "change_sets" ADD COLUMN "lease_expires_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "change_sets_applying_lease" ON "change_sets" USING btree ("lease_expires_at") WHERE "change_sets"."status" = 'applying';--> statement-breakpoint
-- Agent change sets a crash left applying before leases existed: lapsed now, so recovery takes them.
-- A rollback's own change set (its batch id is the rollback's id) is the rollback job's to finish.
UPDATE "change_sets" SET "lease_expires_at" = now() WHERE "status" = 'applying' AND "batch_id" NOT IN (SELECT "id"::text FROM "rollbacks");
