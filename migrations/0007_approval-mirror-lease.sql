ALTER TABLE "approvals" ADD COLUMN "decided_by" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "mirror_held_until" timestamp with time zone;