ALTER TABLE "actions" ADD COLUMN "decided_by" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "actions" ADD COLUMN "mirror_seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "actions" ADD COLUMN "mirrored_seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "actions" ADD COLUMN "mirror_held_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "actions" ADD COLUMN "approval_object_id" text;--> statement-breakpoint
CREATE INDEX "actions_mirror_due" ON "actions" USING btree ("workspace_id") WHERE "actions"."mirror_seq" > "actions"."mirrored_seq";--> statement-breakpoint
-- Drafts held before this migration become due for the CRM mirror once; whoever released one decided it.
UPDATE "actions" SET "mirror_seq" = 1 WHERE "tier" IN ('approval', 'two_person');--> statement-breakpoint
UPDATE "actions" SET "decided_by" = "approved_by" WHERE "tier" IN ('approval', 'two_person') AND "released_at" IS NOT NULL;
