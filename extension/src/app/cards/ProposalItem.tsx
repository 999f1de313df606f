import { useState } from 'react';
import { Box, Button, ButtonRow, Divider, Flex, Input, Link, Tag, Text, TextArea } from '@hubspot/ui-extensions';
import type { ExtensionDecision, PendingApprovalCard } from '../../../../shared/extension-api.ts';
import {
  type DiffRow,
  type ShownValue,
  changedEdits,
  confidenceLabel,
  diffRows,
  editStartValues,
  sourceLink,
} from '../lib/views/proposal-view.ts';
import { decisionControls } from '../lib/views/decision-controls.ts';
import { visibleText } from '../lib/views/display-text.ts';

export interface ProposalItemProps {
  card: PendingApprovalCard;
  killSwitchEngaged: boolean;
  busy: boolean;
  onDecide: (approvalId: string, decision: ExtensionDecision) => void;
}

type Mode =
  | { kind: 'idle' }
  | { kind: 'editing'; values: Record<string, string> }
  | { kind: 'rejecting'; reason: string };

const wholeText = (value: ShownValue) => value.full ?? value.text;
const isShortened = (row: DiffRow) => (row.edited ?? row.proposed).full !== null || row.current.full !== null;

/** One held proposal: current → proposed per property, who proposed it and why, and the decisions this person may take. */
export function ProposalItem({ card, killSwitchEngaged, busy, onDecide }: ProposalItemProps) {
  const [mode, setMode] = useState<Mode>({ kind: 'idle' });
  /** A shortened value is read whole on demand: nobody approves text they could not see. */
  const [whole, setWhole] = useState(false);
  const controls = decisionControls(card, { killSwitchEngaged });
  const confidence = confidenceLabel(card.evidence);
  const source = sourceLink(card.evidence);
  const rows = diffRows(card);
  const id = card.approval.id;

  return (
    <Box>
      <Flex direction="column" gap="xs">
        <Flex gap="xs" wrap="wrap">
          <Text format={{ fontWeight: 'bold' }}>{visibleText(card.agent.name)}</Text>
          {confidence ? <Tag variant="default">{confidence}</Tag> : null}
          {card.approval.tier === 'two_person' ? <Tag variant="warning">Needs two approvers</Tag> : null}
        </Flex>
        {rows.map((row) => (
          <Text key={row.property} testId={`diff-${id}-${row.property}`}>
            {`${row.property}: ${row.current.text} → ${(row.edited ?? row.proposed).text}`}
          </Text>
        ))}
        {rows.some(isShortened) ? (
          <Button testId={`whole-${id}`} size="xs" variant="transparent" onClick={() => setWhole(!whole)}>
            {whole ? 'Hide whole values' : 'Show whole values'}
          </Button>
        ) : null}
        {whole
          ? rows.filter(isShortened).flatMap((row) => [
              <Text key={`${row.property}-now`} testId={`whole-${id}-${row.property}-now`}>
                {`${row.property} now: ${wholeText(row.current)}`}
              </Text>,
              <Text key={`${row.property}-proposed`} testId={`whole-${id}-${row.property}-proposed`}>
                {`${row.property} proposed: ${wholeText(row.edited ?? row.proposed)}`}
              </Text>,
            ])
          : null}
        {card.evidence?.reason ? <Text variant="microcopy">{visibleText(card.evidence.reason)}</Text> : null}
        {source ? (
          source.href ? (
            <Link href={source.href}>{source.label}</Link>
          ) : (
            <Text variant="microcopy">Source: {source.label}</Text>
          )
        ) : null}
        {mode.kind === 'editing'
          ? rows.map((row) => (
              <Input
                key={row.property}
                name={`edit-${row.property}`}
                label={`New ${row.property}`}
                value={mode.values[row.property] ?? ''}
                onChange={(value: string) =>
                  setMode({ kind: 'editing', values: { ...mode.values, [row.property]: value } })
                }
              />
            ))
          : null}
        {mode.kind === 'rejecting' ? (
          <TextArea
            name={`reason-${id}`}
            label="Why reject?"
            required={true}
            value={mode.reason}
            onChange={(value: string) => setMode({ kind: 'rejecting', reason: value })}
          />
        ) : null}
        {controls.unavailableReason ? <Text variant="microcopy">{controls.unavailableReason}</Text> : null}
        <ButtonRow>
          {mode.kind === 'idle' && controls.approve ? (
            <Button
              testId={`approve-${id}`}
              variant="primary"
              size="xs"
              disabled={busy}
              onClick={() => onDecide(id, { kind: 'approve' })}
            >
              Approve
            </Button>
          ) : null}
          {mode.kind === 'idle' && controls.editThenApprove ? (
            <Button
              testId={`edit-${id}`}
              size="xs"
              disabled={busy}
              onClick={() => setMode({ kind: 'editing', values: editStartValues(card) })}
            >
              Edit
            </Button>
          ) : null}
          {mode.kind === 'idle' && controls.reject ? (
            <Button
              testId={`reject-${id}`}
              variant="destructive"
              size="xs"
              disabled={busy}
              onClick={() => setMode({ kind: 'rejecting', reason: '' })}
            >
              Reject
            </Button>
          ) : null}
          {mode.kind === 'editing' ? (
            <Button
              testId={`approve-edited-${id}`}
              variant="primary"
              size="xs"
              disabled={busy}
              onClick={() => {
                const edits = changedEdits(card, mode.values);
                onDecide(id, Object.keys(edits).length > 0 ? { kind: 'approve', edits } : { kind: 'approve' });
              }}
            >
              Approve edited
            </Button>
          ) : null}
          {mode.kind === 'rejecting' ? (
            <Button
              testId={`confirm-reject-${id}`}
              variant="destructive"
              size="xs"
              disabled={busy || mode.reason.trim() === ''}
              onClick={() => onDecide(id, { kind: 'reject', reason: mode.reason.trim() })}
            >
              Confirm reject
            </Button>
          ) : null}
          {mode.kind !== 'idle' ? (
            <Button size="xs" variant="secondary" onClick={() => setMode({ kind: 'idle' })}>
              Cancel
            </Button>
          ) : null}
        </ButtonRow>
      </Flex>
      <Divider />
    </Box>
  );
}
