ALTER TABLE "audit_events" ALTER COLUMN "actor" SET DATA TYPE json;--> statement-breakpoint
ALTER TABLE "audit_events" ALTER COLUMN "before" SET DATA TYPE json;--> statement-breakpoint
ALTER TABLE "audit_events" ALTER COLUMN "after" SET DATA TYPE json;--> statement-breakpoint
ALTER TABLE "audit_events" ALTER COLUMN "evidence" SET DATA TYPE json;--> statement-breakpoint
ALTER TABLE "audit_events" ALTER COLUMN "data" SET DATA TYPE json;--> statement-breakpoint
ALTER TABLE "change_records" ALTER COLUMN "evidence" SET DATA TYPE json;--> statement-breakpoint
ALTER TABLE "record_property_changes" ALTER COLUMN "data" SET DATA TYPE json;