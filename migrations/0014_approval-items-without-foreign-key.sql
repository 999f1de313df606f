ALTER TABLE "approval_items" DROP CONSTRAINT "approval_items_approval_id_approvals_id_fk";
