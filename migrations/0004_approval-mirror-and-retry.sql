ALTER TABLE "approvals" ADD COLUMN "next_apply_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "apply_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "mirror_seq" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "mirrored_seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "approvals" ADD COLUMN "crm_object_id" text;--> statement-breakpoint
ALTER TABLE "workspaces" ADD COLUMN "approval_object" jsonb;--> statement-breakpoint
CREATE INDEX "approvals_mirror_due" ON "approvals" USING btree ("workspace_id") WHERE "approvals"."mirror_seq" > "approvals"."mirrored_seq";--> statement-breakpoint
CREATE INDEX "approvals_apply_due" ON "approvals" USING btree ("next_apply_at") WHERE "approvals"."status" = 'approved';