import type { ReasonCode } from '../../../../shared/reason-codes.ts';
import type { ContactFields } from '../../../../shared/crm-names.ts';
import {
  optOutProperties,
  stopRuleReason,
  withNotedOptOuts,
  type ContactStopReason,
  type StopRuleInput,
} from '../../domain/action-drafts.ts';
import {
  findContactStops,
  latestNotedValues,
  lockAction,
  updateAction,
  type ActionRow,
} from '../../store/action-store.ts';
import type { Db, Tx } from '../../store/database.ts';
import { actionEvent } from './action-audit.ts';
import { type ServiceDeps, withAuditChain } from '../common/index.ts';
import { requireWorkspace } from '../governance/index.ts';

const STOP_RULES = { type: 'system', name: 'stop-rules' } as const;

/**
 * Why an email to this contact must not go out now: the contact as the CRM returned it, what we
 * were told since (a reply or unsubscribe reported; an opt-out a webhook noted), or undefined.
 */
export async function currentStopReason(
  db: Db | Tx,
  input: Pick<StopRuleInput, 'to' | 'contact' | 'fields'> & {
    workspaceId: string;
    objectType: string;
    contactId: string;
  },
): Promise<ReasonCode | undefined> {
  const stops = (await findContactStops(db, input.workspaceId, input.contactId)).map(
    (stop) => stop.reason as ContactStopReason,
  );
  const noted = await latestNotedValues(db, {
    workspaceId: input.workspaceId,
    objectType: input.objectType,
    recordId: input.contactId,
    properties: optOutProperties(input.fields),
  });
  const contact = withNotedOptOuts(input.contact, noted, input.fields);
  return stopRuleReason({ to: input.to, contact, fields: input.fields, stops });
}

/**
 * Before a released email is handed out (the agent's GET, a verification), checks what we know
 * without asking the CRM: a reply, an unsubscribe, or an opt-out a webhook noted since release
 * stops it, audited. Returns the row as it now stands.
 */
export async function stopReleasedEmailIfBarred(deps: ServiceDeps, row: ActionRow): Promise<ActionRow> {
  if (row.kind !== 'send_email' || row.status !== 'released' || row.recipientEmail === null) return row;
  // The address was checked against the contact at release; only opt-outs and stops can have changed.
  const reason = await currentStopReason(deps.db, {
    workspaceId: row.workspaceId,
    objectType: row.objectType,
    contactId: row.recordId,
    to: undefined,
    contact: {},
    fields: await contactFieldsOf(deps, row.workspaceId, row.objectType),
  });
  if (reason === undefined) return row;
  return withAuditChain(deps.db, row.workspaceId, deps.clock, async (tx, audit) => {
    const locked = await lockAction(tx, row.workspaceId, row.id);
    if (locked?.status !== 'released') return locked ?? row;
    const stopped: ActionRow = {
      ...locked,
      status: 'stopped',
      reasons: [...locked.reasons, reason],
      message: 'A stop rule now forbids emailing this contact.',
    };
    await updateAction(tx, row.workspaceId, row.id, {
      status: stopped.status,
      reasons: stopped.reasons,
      message: stopped.message,
    });
    audit.append(
      actionEvent(row, {
        type: 'action.stopped',
        actor: STOP_RULES,
        reasons: [reason],
        before: { status: 'released' },
        after: { status: 'stopped' },
      }),
    );
    return stopped;
  });
}

/** Where the contact's own CRM keeps its opt-out and addresses (a workspace may hold two, issue 20). */
async function contactFieldsOf(deps: ServiceDeps, workspaceId: string, objectType: string): Promise<ContactFields> {
  return deps.crmFor(await requireWorkspace(deps, workspaceId)).forObject(objectType).contactFields;
}
