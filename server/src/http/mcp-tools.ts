import { z } from 'zod';
import { actionOutcomeRequestSchema, actionRequestSchema, type ActionView } from '../../../shared/action-api.ts';
import { type ChangeSetResponse, changeSetRequestSchema } from '../../../shared/agent-api.ts';
import { checkRecordIdOfType, recordRefSchema } from '../../../shared/crm-names.ts';
import { pendingRecordProposals, whatMayIChange } from '../services/agent-tools/index.ts';
import { readOwnAction, reportActionOutcome, submitAction } from '../services/actions/index.ts';
import { readChangeSet, submitChangeSet } from '../services/change-sets/index.ts';
import type { ServiceDeps } from '../services/common/index.ts';
import type { AuthenticatedAgent } from '../services/governance/index.ts';

/**
 * The agent API as MCP tools (issue 22). Each tool's input is the zod schema its REST route
 * parses (the draft tools take their kind's variant of the action body without `kind`), and each
 * calls the service that route calls; the descriptions are written for the model choosing a tool.
 */
export interface McpTool<Input extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  input: Input;
  run(args: z.infer<Input>, context: ToolContext): Promise<ToolAnswer>;
}

export interface ToolContext {
  deps: ServiceDeps;
  caller: AuthenticatedAgent;
}

/** A sentence for the model, the JSON it can read details from, and whether nothing it asked for got through. */
export interface ToolAnswer {
  summary: string;
  value: object;
  refused?: boolean;
}

const changeSetIdSchema = z.strictObject({
  changeSetId: z.uuid().describe('The id propose_crm_changes returned.'),
});
// A refinement travels with safeExtend, so the outcome's own rules (a delivery outcome needs its release token) hold.
const outcomeSchema = actionOutcomeRequestSchema.safeExtend({
  actionId: z.uuid().describe('The id draft_email returned.'),
});
const [emailDraft, taskDraft, noteDraft] = actionRequestSchema.options;

const tool = <Input extends z.ZodType>(definition: McpTool<Input>): McpTool => definition as unknown as McpTool;

export const MCP_TOOLS: readonly McpTool[] = [
  tool({
    name: 'propose_crm_changes',
    description:
      'Propose new values for properties of CRM records (one object type per call, up to 10,000 records). Every field is decided by the workspace policy: "applied" (written now, with your evidence as provenance), "pending_approval" (held for a person; do not propose it again), "denied" or "failed". The result lists each field with its decision and reason codes such as tier_auto, field_not_allowed, confidence_below_threshold, overwrites_non_empty_value, cap_agent_daily_writes_reached, outside_time_window, value_unchanged. Give evidence a person can check: a source, a reason, ideally a url and a confidence. Call what_may_i_change first to see which properties you may change, and get_record_proposals to avoid proposing a value already waiting for approval. To link a record with another (a contact with its company), send entries {"operation": "associate", "recordId", "toObjectType", "toRecordId", "evidence"} in a change set of their own; they are decided the same way.',
    input: changeSetRequestSchema,
    run: async (request, { deps, caller }) => {
      const { response } = await submitChangeSet(deps, { ...caller, request, idempotencyKey: undefined });
      return changeSetAnswer(response);
    },
  }),
  tool({
    name: 'get_change_set',
    description:
      'Read back a change set you proposed, with the current decision of each field: a held field becomes "applied" once a person approves it, or stays refused if rejected. Another agent’s change set is not found, as an unknown id.',
    input: changeSetIdSchema,
    run: async ({ changeSetId }, { deps, caller }) => changeSetAnswer(await readChangeSet(deps, caller, changeSetId)),
  }),
  tool({
    name: 'draft_email',
    description:
      'Draft an email to a contact. Nothing is sent by this server: the policy refuses it, holds it for a person to approve (and perhaps edit; read it back with get_draft), or releases it. Once released, send exactly the released subject and body yourself, then call report_action_outcome with the release token. Opted-out or do-not-contact recipients and contacts who replied, unsubscribed, bounced hard or complained are refused.',
    input: emailDraft.omit({ kind: true }).superRefine(checkRecordIdOfType),
    run: async (request, context) => draftAnswer(await submitDraft(context, { kind: 'send_email', ...request })),
  }),
  tool({
    name: 'create_task',
    description:
      'Propose a task on a CRM record (a follow-up for a person). The policy creates it now, holds it for a person, or refuses it; this server creates the task in the CRM once it is released.',
    input: taskDraft.omit({ kind: true }).superRefine(checkRecordIdOfType),
    run: async (request, context) => draftAnswer(await submitDraft(context, { kind: 'create_task', ...request })),
  }),
  tool({
    name: 'create_note',
    description:
      'Propose a note on a CRM record’s timeline. The policy creates it now, holds it for a person, or refuses it; this server writes the note in the CRM once it is released.',
    input: noteDraft.omit({ kind: true }).superRefine(checkRecordIdOfType),
    run: async (request, context) => draftAnswer(await submitDraft(context, { kind: 'create_note', ...request })),
  }),
  tool({
    name: 'get_draft',
    description:
      'Read back a draft you made with draft_email, create_task or create_note, to learn whether a person approved, edited or rejected it. A released email comes with the exact subject and body to send (`released`, with a person’s edits) and its `releaseToken`; it is withheld while a kill switch stops you, and stopped if the contact has since replied, unsubscribed or opted out.',
    input: z.strictObject({ actionId: z.uuid().describe('The id the draft tool returned.') }),
    run: async ({ actionId }, { deps, caller }) => draftAnswer(await readOwnAction(deps, { ...caller, actionId })),
  }),
  tool({
    name: 'report_action_outcome',
    description:
      'Report what happened to an email you sent after draft_email released it: sent, bounced (with bounceType hard or soft) or failed (each needs the release token), or later a reply, an unsubscribe or a spam complaint (complained). Replies, unsubscribes, hard bounces and spam complaints stop every agent emailing that contact again.',
    input: outcomeSchema,
    run: async ({ actionId, ...request }, { deps, caller }) => {
      const view = await reportActionOutcome(deps, { ...caller, actionId, request });
      return {
        summary: `Outcome ${request.outcome} recorded for draft ${view.id}; it is now ${view.status}.`,
        value: view,
      };
    },
  }),
  tool({
    name: 'what_may_i_change',
    description:
      'Before proposing: what the policy in force lets you (your role) do. Lists for each object type the properties applied automatically (auto), held for one or two people (approval, two_person) and denied (any property not listed is denied too), the tier of each draft kind, for each object type the tier of creating a record (creates, with the tier a likely duplicate is raised to) and of associating one with another record (associates), what a read returns of its properties (reads: full, masked, withheld; any property not listed is withheld), the conditions that can raise a tier, the daily caps and how many writes, creations and associations you have left today, the time windows and whether each is open now, any kill switch that stops you, and each daily budget (CRM calls made for you, spend you report as evidence.cost) with what is left today.',
    input: z.strictObject({}),
    run: async (_args, { deps, caller }) => {
      const view = await whatMayIChange(deps, caller);
      const stopped = view.killSwitches.length > 0 ? ` Kill switches stop you now: ${stoppedSentence(view)}.` : '';
      return {
        summary: `Policy version ${view.policyVersion} for role ${view.role}; ${view.writesToday.left ?? 'unlimited'} field writes left today.${stopped}`,
        value: view,
      };
    },
  }),
  tool({
    name: 'get_record_proposals',
    description:
      'The field changes on one record still waiting for a person’s approval, from every agent (yours are marked), with the proposed values: another agent’s are masked or withheld (proposedShownAs) as your read rules say. Check it before proposing, so you do not propose a value that is already waiting.',
    input: recordRefSchema,
    run: async ({ objectType, recordId }, { deps, caller }) => {
      const proposals = await pendingRecordProposals(deps, { ...caller, objectType, recordId });
      const count = proposals.reduce((sum, proposal) => sum + proposal.properties.length, 0);
      return {
        summary: `${count} value${count === 1 ? '' : 's'} waiting for approval on ${objectType} ${recordId}.`,
        value: { objectType, recordId, proposals },
      };
    },
  }),
];

function submitDraft(context: ToolContext, request: z.infer<typeof actionRequestSchema>): Promise<ActionView> {
  return submitAction(context.deps, { ...context.caller, request, idempotencyKey: undefined }).then(({ view }) => view);
}

function changeSetAnswer(response: ChangeSetResponse): ToolAnswer {
  const { applied, pending_approval, denied, failed, applying } = response.summary;
  const refusedReasons = [
    ...new Set(
      response.results.filter((r) => r.decision === 'denied' || r.decision === 'failed').flatMap((r) => r.reasons),
    ),
  ];
  const parts = [
    `${applied} applied`,
    `${pending_approval} held for a person's approval`,
    `${denied} denied`,
    ...(failed > 0 ? [`${failed} failed`] : []),
    ...(applying > 0 ? [`${applying} still being written`] : []),
  ];
  const reasons = refusedReasons.length > 0 ? ` Refused for: ${refusedReasons.join(', ')}.` : '';
  return {
    summary: `Change set ${response.id} (policy version ${response.policyVersion}): ${parts.join(', ')}.${reasons}`,
    value: response,
    refused: applied + pending_approval + applying === 0,
  };
}

function draftAnswer(view: ActionView): ToolAnswer {
  const reasons = view.reasons.length > 0 ? ` Reasons: ${view.reasons.join(', ')}.` : '';
  const next: Partial<Record<ActionView['status'], string>> = {
    refused: ' Do not send it.',
    pending: ` A person decides it before ${view.expiresAt}: read it back later with get_draft, and send nothing meanwhile.`,
    released:
      view.kind === 'send_email'
        ? ' Send exactly the released subject and body, then report the outcome with the release token.'
        : ' This server creates it in the CRM.',
  };
  return {
    summary: `Draft ${view.id} (${view.kind}) is ${view.status}.${reasons}${next[view.status] ?? ''}`,
    value: view,
    refused: view.status === 'refused',
  };
}

function stoppedSentence(view: { killSwitches: { scope: string; reason: string; stops: string[] }[] }): string {
  return view.killSwitches.map((s) => `${s.scope} switch (${s.reason}) stops ${s.stops.join(', ')}`).join('; ');
}
