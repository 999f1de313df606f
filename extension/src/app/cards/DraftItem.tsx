import { useState } from 'react';
import { Box, Button, ButtonRow, Divider, Flex, Input, Tag, Text, TextArea } from '@hubspot/ui-extensions';
import type { EngagedKillSwitch, PendingDraft } from '../../../../shared/extension-api.ts';
import type { ExtensionDraftDecision } from '../../../../shared/extension-decisions-api.ts';
import { showValue } from '../lib/views/proposal-view.ts';
import { visibleText } from '../lib/views/display-text.ts';
import { DRAFT_KIND_LABELS, EDITABLE_FIELDS, draftControls, draftEdits } from './draft-view.ts';

export interface DraftItemProps {
  draft: PendingDraft;
  killSwitches: readonly EngagedKillSwitch[];
  busy: boolean;
  onDecide: (draftId: string, decision: ExtensionDraftDecision) => void;
}

type Mode =
  | { kind: 'idle' }
  | { kind: 'editing'; values: Partial<Record<'subject' | 'body', string>> }
  | { kind: 'rejecting'; reason: string };

/** One held email, task or note: what would go out, who drafted it, and approve, edit then approve, or reject with a reason. */
export function DraftItem({ draft, killSwitches, busy, onDecide }: DraftItemProps) {
  const [mode, setMode] = useState<Mode>({ kind: 'idle' });
  /** A shortened subject or body is read whole on demand: nobody releases an email they could not read. */
  const [whole, setWhole] = useState(false);
  const controls = draftControls(draft, killSwitches);
  const { id, content } = draft;
  const subject = content.subject ? showValue(content.subject) : null;
  const body = content.body ? showValue(content.body, 280) : null;
  const edited = mode.kind === 'editing' ? draftEdits(draft, mode.values) : null;
  const approveEdited = () => {
    if (edited) onDecide(id, edited);
  };

  return (
    <Box>
      <Flex direction="column" gap="xs">
        <Flex gap="xs" wrap="wrap">
          <Text
            format={{ fontWeight: 'bold' }}
          >{`${DRAFT_KIND_LABELS[draft.kind]} by ${visibleText(draft.agent.name)}`}</Text>
          {draft.tier === 'two_person' ? <Tag variant="warning">Needs two approvers</Tag> : null}
          {draft.edited ? <Tag variant="info">Edited</Tag> : null}
        </Flex>
        {draft.heldBecause ? (
          <Text testId={`draft-${id}-held-because`} variant="microcopy">
            {visibleText(draft.heldBecause)}
          </Text>
        ) : null}
        {content.to ? <Text testId={`draft-${id}-to`}>{`To: ${visibleText(content.to)}`}</Text> : null}
        {subject ? (
          <Text testId={`draft-${id}-subject`}>{whole ? (subject.full ?? subject.text) : subject.text}</Text>
        ) : null}
        {body ? (
          <Text testId={`draft-${id}-body`} variant="microcopy">
            {whole ? (body.full ?? body.text) : body.text}
          </Text>
        ) : null}
        {subject?.full || body?.full ? (
          <Button testId={`whole-draft-${id}`} size="xs" variant="transparent" onClick={() => setWhole(!whole)}>
            {whole ? 'Show less' : 'Show all of it'}
          </Button>
        ) : null}
        {content.dueAt ? (
          <Text variant="microcopy">{`Due ${new Date(content.dueAt).toLocaleString()}${content.priority ? ` · ${content.priority.toLowerCase()} priority` : ''}`}</Text>
        ) : null}
        {mode.kind === 'editing'
          ? EDITABLE_FIELDS[draft.kind].map((field) =>
              field === 'subject' ? (
                <Input
                  key={field}
                  name={`draft-${id}-subject`}
                  label="Subject"
                  value={mode.values.subject ?? ''}
                  onChange={(value: string) => setMode({ kind: 'editing', values: { ...mode.values, subject: value } })}
                />
              ) : (
                <TextArea
                  key={field}
                  name={`draft-${id}-body`}
                  label="Body"
                  rows={6}
                  value={mode.values.body ?? ''}
                  onChange={(value: string) => setMode({ kind: 'editing', values: { ...mode.values, body: value } })}
                />
              ),
            )
          : null}
        {mode.kind === 'editing' && edited === null ? (
          <Text variant="microcopy">A draft cannot be approved with an empty field.</Text>
        ) : null}
        {mode.kind === 'rejecting' ? (
          <TextArea
            name={`draft-reason-${id}`}
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
              testId={`approve-draft-${id}`}
              variant="primary"
              size="xs"
              disabled={busy}
              onClick={() => onDecide(id, { kind: 'approve' })}
            >
              Approve
            </Button>
          ) : null}
          {mode.kind === 'idle' && controls.edit ? (
            <Button
              testId={`edit-draft-${id}`}
              size="xs"
              disabled={busy}
              onClick={() =>
                setMode({
                  kind: 'editing',
                  values: Object.fromEntries(EDITABLE_FIELDS[draft.kind].map((field) => [field, content[field] ?? ''])),
                })
              }
            >
              Edit
            </Button>
          ) : null}
          {mode.kind === 'idle' && controls.reject ? (
            <Button
              testId={`reject-draft-${id}`}
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
              testId={`approve-edited-draft-${id}`}
              variant="primary"
              size="xs"
              disabled={busy || edited === null}
              onClick={approveEdited}
            >
              Approve edited
            </Button>
          ) : null}
          {mode.kind === 'rejecting' ? (
            <Button
              testId={`confirm-reject-draft-${id}`}
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
