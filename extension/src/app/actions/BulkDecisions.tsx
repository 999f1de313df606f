import { useCallback, useEffect, useRef, useState } from 'react';
import {
  Alert,
  Button,
  ButtonRow,
  EmptyState,
  ErrorState,
  Flex,
  Heading,
  LoadingSpinner,
  Text,
  TextArea,
  hubspot,
  useExtensionActions,
  useExtensionContext,
} from '@hubspot/ui-extensions';
import type { BatchDecisionResult } from '../../../../shared/approval-api.ts';
import type { BulkDecision, BulkPreview } from '../../../../shared/extension-decisions-api.ts';
import { OBJECT_TYPE_BY_ID, backendFetcher, callBackend, type Fetcher } from '../lib/api.ts';
import { EXTENSION_API_URL } from '../lib/deployment.ts';
import { createUseBackendData } from '../lib/load-state.ts';
import { createUseOneAtATime } from '../lib/one-at-a-time.ts';
import { killSwitchNotice } from '../lib/views/proposal-view.ts';
import { bulkControls, bulkOutcome, previewSentence } from './bulk-view.ts';

const useBackendData = createUseBackendData({ useEffect, useRef, useState, useCallback });
const useOneAtATime = createUseOneAtATime({ useRef, useState, useCallback });

hubspot.extend<'crm.bulkActions'>(() => <BulkDecisions fetcher={backendFetcher(hubspot.fetch, EXTENSION_API_URL)} />);

/**
 * The bulk action on the contacts and deals index pages (issue 8, HubSpot's 2026.09 beta):
 * every agent proposal pending on the selected records, approved or rejected in one decision.
 */
export function BulkDecisions({ fetcher }: { fetcher: Fetcher }) {
  const context = useExtensionContext<'crm.bulkActions'>();
  const actions = useExtensionActions<'crm.bulkActions'>();
  const objectType = OBJECT_TYPE_BY_ID[context.crm.objectTypeId];
  const selection = objectType ? { objectType, recordIds: context.crm.objectIds.map(String) } : undefined;
  const { state, reload } = useBackendData<BulkPreview>(fetcher, selection ? '/bulk/preview' : null, selection);
  const [rejecting, setRejecting] = useState<string | null>(null);
  const { busy, run } = useOneAtATime();

  if (!selection) return <Text>Agent Governance decides proposals on contacts and deals only.</Text>;

  const decide = (decision: BulkDecision) =>
    run(async () => {
      const result = await callBackend<BatchDecisionResult>(fetcher, '/bulk/decisions', {
        method: 'POST',
        body: decision,
      });
      if (!result.ok) {
        actions.addAlert({ type: 'danger', title: 'Not decided', message: result.message });
        // Proposals came or went since the preview: show what waits now before anyone decides it.
        if (result.status === 409) reload();
        return;
      }
      actions.addAlert(bulkOutcome(decision.kind, result.data));
      setRejecting(null);
      reload();
    });

  if (state.kind === 'loading') return <LoadingSpinner label="Loading the selected records' proposals" />;
  if (state.kind === 'forbidden')
    return (
      <Alert title="No access" variant="warning">
        {state.message}
      </Alert>
    );
  if (state.kind === 'error') {
    return (
      <ErrorState title="Agent Governance could not load these records.">
        <Text>{state.message}</Text>
        <Button onClick={reload}>Try again</Button>
      </ErrorState>
    );
  }
  const preview = state.data;
  const controls = bulkControls(preview);
  const notice = killSwitchNotice(preview.killSwitches);
  return (
    <Flex direction="column" gap="sm">
      {notice ? (
        <Alert title="Kill switch engaged" variant="danger">
          {notice}
        </Alert>
      ) : null}
      <Heading>Agent proposals on the selection</Heading>
      {preview.pending === 0 ? (
        <EmptyState title="Nothing to decide" layout="vertical" imageWidth={80}>
          <Text>{previewSentence(preview)}</Text>
        </EmptyState>
      ) : (
        <Text testId="bulk-summary">{previewSentence(preview)}</Text>
      )}
      {controls.notice ? <Text variant="microcopy">{controls.notice}</Text> : null}
      {rejecting !== null ? (
        <TextArea
          name="bulk-reject-reason"
          label="Why reject them all?"
          required={true}
          value={rejecting}
          onChange={(value: string) => setRejecting(value)}
        />
      ) : null}
      <ButtonRow>
        {rejecting === null && controls.approve ? (
          <Button
            testId="bulk-approve"
            variant="primary"
            disabled={busy}
            onClick={() => void decide({ kind: 'approve', selection, seen: preview.seen })}
          >{`Approve ${preview.decidable}`}</Button>
        ) : null}
        {rejecting === null && controls.reject ? (
          <Button
            testId="bulk-reject"
            variant="destructive"
            disabled={busy}
            onClick={() => setRejecting('')}
          >{`Reject ${preview.decidable}`}</Button>
        ) : null}
        {rejecting !== null ? (
          <Button
            testId="bulk-confirm-reject"
            variant="destructive"
            disabled={busy || rejecting.trim() === ''}
            onClick={() => void decide({ kind: 'reject', selection, reason: rejecting.trim(), seen: preview.seen })}
          >
            Confirm reject
          </Button>
        ) : null}
        {rejecting !== null ? (
          <Button variant="secondary" onClick={() => setRejecting(null)}>
            Cancel
          </Button>
        ) : null}
      </ButtonRow>
    </Flex>
  );
}
