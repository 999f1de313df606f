ALTER TABLE "idempotency_keys" ADD COLUMN "lease_expires_at" timestamp with time zone;--> statement-breakpoint
-- Claims from before leases lapse five minutes after they were made, as they did then.
UPDATE "idempotency_keys" SET "lease_expires_at" = "created_at" + interval '5 minutes';--> statement-breakpoint
ALTER TABLE "idempotency_keys" ALTER COLUMN "lease_expires_at" SET NOT NULL;
