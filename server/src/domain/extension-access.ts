import type { ExtensionPermissions } from '../../../shared/extension-api.ts';
import type { PersonRole } from './approval-lifecycle.ts';

/**
 * What each person role may do in the HubSpot app (issue 8). Deciding follows the approval
 * state machine's own rule (mayDecide); the rest is who administers governance:
 * owners and RevOps admins change policy and kill switches, approvers and auditors read them;
 * those who may approve agents' writes may also undo them, reps and auditors may not.
 */
export function permissionsFor(role: PersonRole): ExtensionPermissions {
  switch (role) {
    case 'owner':
    case 'revops_admin':
      return { role, decide: 'any', readSettings: true, publishPolicy: true, setKillSwitches: true, searchAudit: true, rollBack: true };
    case 'approver':
      return { role, decide: 'any', readSettings: true, publishPolicy: false, setKillSwitches: false, searchAudit: true, rollBack: true };
    case 'rep':
      return { role, decide: 'own_records', readSettings: false, publishPolicy: false, setKillSwitches: false, searchAudit: false, rollBack: false };
    case 'auditor':
      return { role, decide: 'none', readSettings: true, publishPolicy: false, setKillSwitches: false, searchAudit: true, rollBack: false };
  }
}
