import type { RollbackPlan, RollbackSelector, RollbackView } from '../../../../shared/rollback-api.ts';
import { callBackend, type CallResult, type Fetcher } from './api.ts';

export const POLL_INTERVAL_MS = 1_000;
/** hubspot.fetch allows 20 concurrent requests per account; one poll a second for two minutes stays far below. */
export const MAX_POLLS = 120;

export function planRollback(fetcher: Fetcher, selector: RollbackSelector): Promise<CallResult<RollbackPlan>> {
  return callBackend<RollbackPlan>(fetcher, '/rollbacks', { method: 'POST', body: { selector, dryRun: true } });
}

export function startRollback(fetcher: Fetcher, selector: RollbackSelector): Promise<CallResult<RollbackView>> {
  return callBackend<RollbackView>(fetcher, '/rollbacks', { method: 'POST', body: { selector } });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Reads a running rollback until it completes or pauses, telling `onProgress` each time; the job itself runs on the server. */
export async function followRollback(
  fetcher: Fetcher,
  id: string,
  options: { onProgress?: (view: RollbackView) => void; wait?: (ms: number) => Promise<void> } = {},
): Promise<CallResult<RollbackView>> {
  const wait = options.wait ?? sleep;
  for (let poll = 0; ; poll++) {
    const result = await callBackend<RollbackView>(fetcher, `/rollbacks/${id}`);
    if (!result.ok) return result;
    options.onProgress?.(result.data);
    if (result.data.status !== 'running' || poll >= MAX_POLLS) return result;
    await wait(POLL_INTERVAL_MS);
  }
}

/** What a finished rollback did, in one sentence. */
export function rollbackOutcome(view: RollbackView): { type: 'success' | 'warning'; message: string } {
  const { reverted, conflict, alreadyReverted, failed } = view.counts;
  if (view.status === 'paused')
    return {
      type: 'warning',
      message: `Rollback paused after ${view.done} of ${view.total}: ${view.statusReason ?? 'see the home page'}.`,
    };
  if (view.status === 'running')
    return {
      type: 'warning',
      message: `Rollback still running (${view.done} of ${view.total}); follow it on the app's home page.`,
    };
  const parts = [
    `${reverted} reverted`,
    ...(conflict ? [`${conflict} left alone because someone changed them since`] : []),
    ...(alreadyReverted ? [`${alreadyReverted} already reverted`] : []),
    ...(failed ? [`${failed} failed`] : []),
  ];
  return { type: conflict || failed ? 'warning' : 'success', message: `Rollback done: ${parts.join(', ')}.` };
}
