import { useCallback, useEffect, useRef, useState } from 'react';
import {
  Alert,
  Button,
  ButtonRow,
  Divider,
  EmptyState,
  ErrorState,
  Flex,
  Heading,
  LoadingSpinner,
  Text,
  hubspot,
  useExtensionActions,
  useExtensionContext,
} from '@hubspot/ui-extensions';
import type { ActionView } from '../../../../shared/action-api.ts';
import type { ApprovalView } from '../../../../shared/approval-api.ts';
import type {
  CardView,
  ExtensionDecision,
  HeldEntryDecision,
  PendingRecordEntry,
} from '../../../../shared/extension-api.ts';
import type { ExtensionDraftDecision } from '../../../../shared/extension-decisions-api.ts';
import { OBJECT_TYPE_BY_ID, backendFetcher, callBackend, query, type Fetcher } from '../lib/api.ts';
import { EXTENSION_API_URL } from '../lib/deployment.ts';
import { createUseBackendData } from '../lib/load-state.ts';
import { createUseOneAtATime } from '../lib/one-at-a-time.ts';
import { followRollback, rollbackOutcome, startRollback } from '../lib/rollback.ts';
import { pageInfo } from '../lib/views/pagination.ts';
import { killSwitchNotice } from '../lib/views/proposal-view.ts';
import { visibleText } from '../lib/views/display-text.ts';
import { draftOutcome } from './draft-view.ts';
import { Drafts } from './Drafts.tsx';
import { HeldEntries } from './HeldEntries.tsx';
import { ProposalItem } from './ProposalItem.tsx';
import { EmailStops } from './EmailStops.tsx';
import { FieldProvenance } from './FieldProvenance.tsx';
import { RecentChanges } from './RecentChanges.tsx';

const useBackendData = createUseBackendData({ useEffect, useRef, useState, useCallback });
const useOneAtATime = createUseOneAtATime({ useRef, useState, useCallback });
export const CARD_PAGE_SIZE = 5;

hubspot.extend<'crm.record.sidebar'>(() => (
  <GovernanceCard fetcher={backendFetcher(hubspot.fetch, EXTENSION_API_URL)} />
));

/** The record sidebar card (issue 8): what agents want to change or send here, deciding it, and what they changed. */
export function GovernanceCard({ fetcher }: { fetcher: Fetcher }) {
  const context = useExtensionContext<'crm.record.sidebar'>();
  const actions = useExtensionActions<'crm.record.sidebar'>();
  const objectType = OBJECT_TYPE_BY_ID[context.crm.objectTypeId];
  const [page, setPage] = useState(1);
  const { busy, run } = useOneAtATime();
  const path = objectType
    ? `/card${query({ objectType, recordId: String(context.crm.objectId), page, pageSize: CARD_PAGE_SIZE })}`
    : null;
  const { state, reload } = useBackendData<CardView>(fetcher, path);

  // Decided, expired or gone meanwhile (another tab, another person), or no clear answer (a 5xx, no
  // answer at all: the decision may have been stored): the card shows how things stand now.
  const notDecided = (refusal: { status: number; message: string }) => {
    const unknown = refusal.status === 0 || refusal.status >= 500;
    actions.addAlert({
      type: 'danger',
      title: unknown ? 'Perhaps not decided' : 'Not decided',
      message: unknown ? `${refusal.message} The card shows how things stand now.` : refusal.message,
    });
    if (unknown || refusal.status === 404 || refusal.status === 409) {
      actions.refreshObjectProperties();
      reload();
    }
  };

  const decide = (approvalId: string, decision: ExtensionDecision) =>
    run(async () => {
      const result = await callBackend<ApprovalView>(fetcher, `/approvals/${approvalId}/decisions`, {
        method: 'POST',
        body: decision,
      });
      if (!result.ok) return notDecided(result);
      actions.addAlert({
        type: 'success',
        message:
          decision.kind === 'reject'
            ? 'Proposal rejected.'
            : `Proposal ${result.data.status === 'applied' ? 'approved and written' : 'approved'}.`,
      });
      // The approved values are now on the record: show them in HubSpot without a page reload.
      actions.refreshObjectProperties();
      reload();
    });

  const decideDraft = (draftId: string, decision: ExtensionDraftDecision) =>
    run(async () => {
      const result = await callBackend<ActionView>(fetcher, `/drafts/${draftId}/decisions`, {
        method: 'POST',
        body: decision,
      });
      if (!result.ok) return notDecided(result);
      actions.addAlert(draftOutcome(result.data));
      reload();
    });

  const decideEntry = (entry: PendingRecordEntry, decision: HeldEntryDecision) =>
    run(async () => {
      const result = await callBackend<{ decision: string }>(
        fetcher,
        `/${entry.approval.kind}s/${entry.approval.id}/decisions`,
        { method: 'POST', body: decision },
      );
      if (!result.ok) return notDecided(result);
      const what = entry.approval.kind === 'association' ? 'Link' : 'Record';
      actions.addAlert({
        type: result.data.decision === 'failed' ? 'danger' : 'success',
        message:
          decision.kind === 'reject'
            ? `${what} rejected.`
            : result.data.decision === 'applied'
              ? `${what} approved and ${entry.approval.kind === 'association' ? 'linked' : 'created'}.`
              : result.data.decision === 'pending_approval'
                ? `${what} approved; a second person must approve too.`
                : `${what} approved, but the CRM did not take it.`,
      });
      reload();
    });

  const revert = (changeId: string) =>
    run(async () => {
      const started = await startRollback(fetcher, { changeIds: [changeId] });
      const finished = started.ok ? await followRollback(fetcher, started.data.id) : started;
      if (!finished.ok) {
        actions.addAlert({ type: 'danger', title: 'Not reverted', message: finished.message });
        return;
      }
      actions.addAlert(rollbackOutcome(finished.data));
      actions.refreshObjectProperties();
      reload();
    });

  if (!objectType) return <Text>Agent Governance covers contacts and deals only.</Text>;
  if (state.kind === 'loading') return <LoadingSpinner label="Loading agent proposals" />;
  if (state.kind === 'forbidden')
    return (
      <Alert title="No access" variant="warning">
        {state.message}
      </Alert>
    );
  if (state.kind === 'error') {
    return (
      <ErrorState title="Agent Governance could not load this record.">
        <Text>{state.message}</Text>
        <Button onClick={reload}>Try again</Button>
      </ErrorState>
    );
  }
  const view = state.data;
  const notice = killSwitchNotice(view.killSwitches);
  const info = pageInfo(view.pending);
  return (
    <Flex direction="column" gap="sm">
      {notice ? (
        <Alert title="Kill switch engaged" variant="danger">
          {notice}
        </Alert>
      ) : null}
      <Heading>Waiting for a person ({view.pending.total})</Heading>
      {view.pending.total === 0 ? (
        <EmptyState title="Nothing to decide" layout="vertical" imageWidth={80}>
          <Text>No agent proposal on this record waits for a person.</Text>
        </EmptyState>
      ) : null}
      {view.pending.items.map((card) => (
        <ProposalItem
          key={card.approval.id}
          card={card}
          killSwitchEngaged={notice !== null}
          busy={busy}
          onDecide={(id, decision) => void decide(id, decision)}
        />
      ))}
      {info.pageCount > 1 ? (
        <Flex justify="between" align="center">
          <Text variant="microcopy">{info.label}</Text>
          <ButtonRow>
            <Button testId="previous-page" size="xs" disabled={!info.hasPrevious} onClick={() => setPage(page - 1)}>
              Previous
            </Button>
            <Button testId="next-page" size="xs" disabled={!info.hasNext} onClick={() => setPage(page + 1)}>
              Next
            </Button>
          </ButtonRow>
        </Flex>
      ) : null}
      <HeldEntries
        entries={view.heldEntries ?? []}
        killSwitchEngaged={notice !== null}
        busy={busy}
        onDecide={(entry, decision) => void decideEntry(entry, decision)}
      />
      <Divider />
      <Drafts
        drafts={view.drafts}
        killSwitches={view.killSwitches}
        busy={busy}
        onDecide={(id, decision) => void decideDraft(id, decision)}
      />
      <Divider />
      {view.review ? (
        <Text testId="needs-review">{`Needs review: ${visibleText(view.review.agentName)} was stopped (${visibleText(view.review.reason)}) soon after writing this record, on ${new Date(view.review.markedAt).toLocaleString()}. Check its values, then clear it in the console's review queue or roll the batch back.`}</Text>
      ) : null}
      <EmailStops stops={view.emailStops ?? []} />
      <FieldProvenance fields={view.fieldProvenance ?? []} />
      <RecentChanges
        changes={view.recentChanges}
        createdBy={view.createdBy}
        busy={busy}
        {...(view.caller.permissions.rollBack ? { onRevert: (changeId: string) => void revert(changeId) } : {})}
      />
    </Flex>
  );
}
