import * as Dialog from '@radix-ui/react-dialog';
import * as Progress from '@radix-ui/react-progress';
import { useEffect, useState } from 'react';
import { Link } from 'wouter';
import type { ConsoleAuditPage } from '../../../shared/console-api.ts';
import { parseJson } from '../../../shared/json-text.ts';
import type { RollbackItemView, RollbackPlan, RollbackView } from '../../../shared/rollback-api.ts';
import { visibleText } from '../../../shared/views/display-text.ts';
import { AgentText } from '../AgentText.tsx';
import { getJson, postJson, query } from '../api.ts';
import { AuditTable } from './Audit.tsx';
import { useLoad } from '../use-load.ts';

type Run =
  | { step: 'idle' }
  | { step: 'planned'; plan: RollbackPlan }
  | { step: 'running'; rollback: RollbackView }
  | { step: 'done'; rollback: RollbackView; conflicts: RollbackItemView[] };

/** One batch: its audit trail and, for those who may, its rollback (dry run, confirm, live progress, conflicts). */
export function Batch(props: { batchId: string; canRollBack: boolean }) {
  const [events] = useLoad(
    () => getJson<ConsoleAuditPage>(`/console/api/audit${query({ batch: props.batchId, limit: '200' })}`),
    props.batchId,
  );
  const [run, setRun] = useState<Run>({ step: 'idle' });
  const [error, setError] = useState<string | null>(null);
  const selector = { batchId: props.batchId };
  const dryRun = () =>
    postJson<RollbackPlan>('/console/api/rollbacks', { selector, dryRun: true }).then(
      (plan) => setRun({ step: 'planned', plan }),
      (failure: Error) => setError(failure.message),
    );
  const startWith = (body: unknown) =>
    postJson<RollbackView>('/console/api/rollbacks', body).then(
      (rollback) => setRun({ step: 'running', rollback }),
      (failure: Error) => setError(failure.message),
    );
  const start = () => startWith({ selector });
  // Force one conflict: a rollback of exactly its changes, overwriting the later edit (audited as forced).
  const force = (item: RollbackItemView) => startWith({ selector: { changeIds: item.changeIds }, force: true });
  // A rollback's writes are a batch of their own, named by its id: rolling that back undoes it.
  const undo = (rollback: RollbackView) => startWith({ selector: { batchId: rollback.id } });
  const runningId = run.step === 'running' ? run.rollback.id : null;
  useEffect(() => {
    if (!runningId) return;
    const source = new EventSource(`/console/api/rollbacks/${runningId}/events`);
    source.addEventListener('progress', (event) => {
      const rollback = parseJson((event as MessageEvent<string>).data) as RollbackView;
      if (rollback.status === 'running') return setRun({ step: 'running', rollback });
      source.close();
      getJson<{ items: RollbackItemView[] }>(`/console/api/rollbacks/${rollback.id}/report`).then(
        (report) =>
          setRun({ step: 'done', rollback, conflicts: report.items.filter((item) => item.outcome === 'conflict') }),
        (failure: Error) => setError(failure.message),
      );
    });
    return () => source.close();
  }, [runningId]);
  return (
    <section>
      <h1>
        Batch <AgentText>{props.batchId}</AgentText>
      </h1>
      {props.canRollBack && (
        <section aria-label="Rollback" className="card">
          <h2>Roll back this batch</h2>
          {run.step === 'idle' && (
            <button type="button" onClick={dryRun}>
              Dry run
            </button>
          )}
          {run.step === 'planned' && (
            <>
              <p>
                {run.plan.total} change(s): {run.plan.counts.revert} to revert, {run.plan.counts.conflict} conflict(s),{' '}
                {run.plan.counts.alreadyReverted} already reverted.
              </p>
              {/* Not modal: a modal dialog locks scrolling with an injected <style>, which the CSP refuses. */}
              <Dialog.Root modal={false}>
                <Dialog.Trigger asChild>
                  <button type="button">Roll back…</button>
                </Dialog.Trigger>
                <Dialog.Portal>
                  <Dialog.Content className="dialog" aria-describedby={undefined}>
                    <Dialog.Title>
                      Roll back batch <AgentText>{props.batchId}</AgentText>?
                    </Dialog.Title>
                    <p>
                      {run.plan.counts.revert} value(s) go back to what they were; conflicts are left as people set
                      them.
                    </p>
                    <Dialog.Close asChild>
                      <button type="button" onClick={start}>
                        Confirm rollback
                      </button>
                    </Dialog.Close>
                    <Dialog.Close asChild>
                      <button type="button">Cancel</button>
                    </Dialog.Close>
                  </Dialog.Content>
                </Dialog.Portal>
              </Dialog.Root>
            </>
          )}
          {(run.step === 'running' || run.step === 'done') && (
            <>
              <Progress.Root
                className="progress"
                value={run.rollback.done}
                max={Math.max(run.rollback.total, 1)}
                aria-label="Rollback progress"
              >
                {/* Set through the DOM, not a style attribute, so the CSP's style-src 'self' allows it. */}
                <Progress.Indicator
                  className="progress-bar"
                  style={{ width: `${(100 * run.rollback.done) / Math.max(run.rollback.total, 1)}%` }}
                />
              </Progress.Root>
              <p role="status">
                {run.rollback.done} of {run.rollback.total} done · {run.rollback.counts.reverted} reverted ·{' '}
                {run.rollback.counts.conflict} conflict(s) · {run.rollback.status}
              </p>
            </>
          )}
          {run.step === 'done' && run.conflicts.length > 0 && (
            <table aria-label="Conflicts">
              <thead>
                <tr>
                  <th>Record</th>
                  <th>Property</th>
                  <th>Value now</th>
                  <th>Set by</th>
                  <th>Why</th>
                  <th>Force</th>
                </tr>
              </thead>
              <tbody>
                {run.conflicts.map((item) => (
                  <tr key={`${item.recordId}/${item.property}`} className="conflict">
                    <td>{item.recordId}</td>
                    <td>{item.property}</td>
                    <td>
                      <AgentText>{item.conflict?.value ?? item.before ?? '(empty)'}</AgentText>
                    </td>
                    <td>
                      {item.conflict?.origin ?? 'unknown'}
                      {item.conflict?.who ? <AgentText>{` (${item.conflict.who})`}</AgentText> : ''}
                    </td>
                    <td>
                      <AgentText>{item.explanation ?? ''}</AgentText>
                    </td>
                    <td>{item.changeIds && <ForceButton item={item} onConfirm={() => force(item)} />}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {run.step === 'done' && run.rollback.status === 'completed' && (
            <ConfirmButton
              label="Undo this rollback…"
              question={`Put back the ${run.rollback.counts.reverted} value(s) this rollback restored?`}
              confirm="Confirm undo"
              onConfirm={() => undo(run.rollback)}
            />
          )}
          {error && <p role="alert">{error}</p>}
        </section>
      )}
      <h2>Audit trail</h2>
      {events.state === 'ready' && (
        <>
          <AuditTable events={events.data.events} />
          {/* One page of the batch's trail: the rest is one search away, never silently left out. */}
          {events.data.next !== null && (
            <p className="actions">
              Showing the newest {events.data.events.length} events.{' '}
              <Link href={`/audit${query({ batch: props.batchId, before: String(events.data.next) })}`}>
                Older events of this batch
              </Link>
            </p>
          )}
        </>
      )}
      {events.state === 'failed' && <p role="alert">{events.message}</p>}
    </section>
  );
}

/** A step that overwrites or undoes: asked once more, in words, before it runs. */
function ConfirmButton(props: { label: string; question: string; confirm: string; onConfirm: () => void }) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  return (
    <span className="actions">
      {props.question}
      <button type="button" onClick={props.onConfirm}>
        {props.confirm}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

function ForceButton(props: { item: RollbackItemView; onConfirm: () => void }) {
  const { item } = props;
  return (
    <ConfirmButton
      label={`Force ${item.property} on ${item.recordId}…`}
      question={visibleText(
        `Overwrite ${item.conflict?.value ?? item.before ?? '(empty)'} with ${item.restoreValue ?? '(empty)'}?`,
      )}
      confirm="Confirm force"
      onConfirm={props.onConfirm}
    />
  );
}
