import type { ExtensionPermissions, RoleSource } from '../../../shared/extension-api.ts';
import type { PersonRole } from './approval-lifecycle.ts';

/**
 * What each person role may do in the HubSpot app (issue 8). Deciding follows the approval
 * state machine's own rule (mayDecide); the rest is who administers governance:
 * owners and RevOps admins change policy, kill switches, roles and agents, and confirm what dual
 * control holds; approvers and auditors read them; those who may approve agents' writes may also undo
 * them, reps and auditors may not.
 */
export function permissionsFor(role: PersonRole): ExtensionPermissions {
  switch (role) {
    case 'owner':
    case 'revops_admin':
      return {
        role,
        decide: 'any',
        readSettings: true,
        publishPolicy: true,
        setKillSwitches: true,
        managePeople: true,
        confirmGovernance: true,
        searchAudit: true,
        rollBack: true,
        manageAgents: true,
      };
    case 'approver':
      return {
        role,
        decide: 'any',
        readSettings: true,
        publishPolicy: false,
        setKillSwitches: false,
        managePeople: false,
        confirmGovernance: false,
        searchAudit: true,
        rollBack: true,
        manageAgents: false,
      };
    case 'rep':
      return {
        role,
        decide: 'own_records',
        readSettings: false,
        publishPolicy: false,
        setKillSwitches: false,
        managePeople: false,
        confirmGovernance: false,
        searchAudit: false,
        rollBack: false,
        manageAgents: false,
      };
    case 'auditor':
      return {
        role,
        decide: 'none',
        readSettings: true,
        publishPolicy: false,
        setKillSwitches: false,
        managePeople: false,
        confirmGovernance: false,
        searchAudit: true,
        rollBack: false,
        manageAgents: false,
      };
  }
}

/**
 * Strongest first. A rep ranks above an auditor: a rep changes CRM data (on their own records),
 * an auditor only reads.
 */
export const ROLE_STRENGTH: readonly PersonRole[] = ['owner', 'revops_admin', 'approver', 'rep', 'auditor'];

export interface EffectiveRole {
  role: PersonRole;
  source: RoleSource;
}

/**
 * A person's role: their own, when an admin gave them one (so an admin can set one person
 * apart from their team, either way); otherwise the strongest role among the HubSpot teams
 * they are in (primary or secondary alike); otherwise none.
 */
export function effectiveRole(input: {
  own: PersonRole | undefined;
  teams: readonly { teamId: string; role: PersonRole }[];
}): EffectiveRole | undefined {
  if (input.own) return { role: input.own, source: { kind: 'user' } };
  const strongest = [...input.teams].sort(
    (a, b) => ROLE_STRENGTH.indexOf(a.role) - ROLE_STRENGTH.indexOf(b.role) || a.teamId.localeCompare(b.teamId),
  )[0];
  return strongest ? { role: strongest.role, source: { kind: 'team', teamId: strongest.teamId } } : undefined;
}

/**
 * Whether someone may change a role assignment from `before` to `after` (undefined: none).
 * Owners and RevOps admins manage roles, but only an owner grants or takes away the owner
 * role, so a RevOps admin cannot make themselves or anyone else an owner.
 */
export function mayAssignRole(
  assigner: PersonRole,
  change: { before: PersonRole | undefined; after: PersonRole | undefined },
): boolean {
  if (!permissionsFor(assigner).managePeople) return false;
  const touchesOwner = change.before === 'owner' || change.after === 'owner';
  return !touchesOwner || assigner === 'owner';
}
