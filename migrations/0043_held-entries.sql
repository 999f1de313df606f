-- Held creations and associations (issue 21) are listed beside approvals, shown in the inbox and on
-- the record card, and expire as approvals do: `decided_at` says when one stopped waiting (approved
-- enough, rejected, or expired by the approval job), and an index on the held ones (those with an
-- expiry) serves the listing, the inbox and the expiry sweep.
ALTER TABLE "record_creations" ADD COLUMN "decided_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "record_associations" ADD COLUMN "decided_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "record_creations_held" ON "record_creations" USING btree ("workspace_id","expires_at") WHERE "record_creations"."expires_at" is not null;--> statement-breakpoint
CREATE INDEX "record_associations_held" ON "record_associations" USING btree ("workspace_id","expires_at") WHERE "record_associations"."expires_at" is not null;
