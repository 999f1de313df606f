import { useState } from 'react';
import { Alert, Button, ButtonRow, Flex, Heading, ProgressBar, Text } from '@hubspot/ui-extensions';
import type { RollbackPlan, RollbackView } from '../../../../shared/rollback-api.ts';
import type { Fetcher } from '../lib/api.ts';
import { followRollback, planRollback, rollbackOutcome, startRollback } from '../lib/rollback.ts';
import { visibleText } from '../lib/views/display-text.ts';

type Step =
  | { kind: 'planning' }
  | { kind: 'planned'; plan: RollbackPlan }
  | { kind: 'running'; view: RollbackView }
  | { kind: 'finished'; view: RollbackView }
  | { kind: 'failed'; message: string };

/** A batch's rollback: the dry run first (what would be reverted, what conflicts), then the run with its progress. */
export function BatchRollback({
  fetcher,
  batchId,
  onClose,
}: {
  fetcher: Fetcher;
  batchId: string;
  onClose: () => void;
}) {
  const [step, setStep] = useState<Step | null>(null);
  const dryRun = async () => {
    setStep({ kind: 'planning' });
    const plan = await planRollback(fetcher, { batchId });
    setStep(plan.ok ? { kind: 'planned', plan: plan.data } : { kind: 'failed', message: plan.message });
  };
  const run = async () => {
    const started = await startRollback(fetcher, { batchId });
    if (!started.ok) return setStep({ kind: 'failed', message: started.message });
    setStep({ kind: 'running', view: started.data });
    const finished = await followRollback(fetcher, started.data.id, {
      onProgress: (view) => setStep({ kind: 'running', view }),
    });
    setStep(finished.ok ? { kind: 'finished', view: finished.data } : { kind: 'failed', message: finished.message });
  };

  return (
    <Flex direction="column" gap="xs">
      <Heading>{`Roll back batch ${visibleText(batchId)}`}</Heading>
      {step === null ? (
        <ButtonRow>
          <Button testId="dry-run" onClick={() => void dryRun()}>
            Dry run
          </Button>
          <Button variant="secondary" onClick={onClose}>
            Close
          </Button>
        </ButtonRow>
      ) : null}
      {step?.kind === 'planning' ? <Text>Planning…</Text> : null}
      {step?.kind === 'planned' ? (
        <>
          <Text testId="plan-summary">{`${step.plan.counts.revert} to revert, ${step.plan.counts.conflict} changed since by someone else (left alone), ${step.plan.counts.alreadyReverted} already reverted.`}</Text>
          {step.plan.sample
            .filter((item) => item.explanation)
            .slice(0, 5)
            .map((item) => (
              <Text
                key={`${item.recordId}.${item.property}`}
                variant="microcopy"
              >{`${item.objectType} ${item.recordId} ${item.property}: ${item.explanation}`}</Text>
            ))}
          <ButtonRow>
            <Button
              testId="run-rollback"
              variant="destructive"
              disabled={step.plan.counts.revert === 0}
              onClick={() => void run()}
            >{`Roll back ${step.plan.counts.revert} change${step.plan.counts.revert === 1 ? '' : 's'}`}</Button>
            <Button variant="secondary" onClick={onClose}>
              Cancel
            </Button>
          </ButtonRow>
        </>
      ) : null}
      {step?.kind === 'running' || step?.kind === 'finished' ? (
        <ProgressBar
          testId="rollback-progress"
          title={`${step.view.done} of ${step.view.total}`}
          value={step.view.done}
          maxValue={Math.max(step.view.total, 1)}
          showPercentage={true}
        />
      ) : null}
      {step?.kind === 'finished' ? (
        <Alert title="Rollback" variant={rollbackOutcome(step.view).type === 'success' ? 'success' : 'warning'}>
          {rollbackOutcome(step.view).message}
        </Alert>
      ) : null}
      {step?.kind === 'failed' ? (
        <Alert title="Rollback refused" variant="danger">
          {step.message}
        </Alert>
      ) : null}
    </Flex>
  );
}
