/**
 * Work a request starts and does not wait for: the write of a value a person approved from the
 * console or the card, so the person's answer does not wait on two CRM round trips. The work's
 * rows are durable before it starts (an approved approval is the apply queue's row), so a crash or
 * a failure here only delays it: the approval job takes it again.
 */
export interface WorkBehindAnswers {
  start(work: () => Promise<unknown>): void;
  /** Resolves once everything started so far (and anything it started) has finished: for shutdown and tests. */
  idle(): Promise<void>;
}

export function workBehindAnswers(onFailure: (error: unknown) => void): WorkBehindAnswers {
  const running = new Set<Promise<unknown>>();
  return {
    start(work) {
      const task: Promise<unknown> = Promise.resolve()
        .then(work)
        .catch(onFailure)
        .finally(() => running.delete(task));
      running.add(task);
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}

/**
 * When a decision answers: `decided` once it is stored, with its writes started behind the answer
 * (where this process keeps such work); `applied` once they are done, with their outcome.
 */
export type AnswerWhen = 'decided' | 'applied';

/**
 * Does `work` now or behind the answer, and gives `answer`'s result: read after the work, or, when
 * the work goes behind, before it starts, so the answer shows the decision as stored however fast
 * the work then is.
 */
export async function writeNowOrBehind<T>(
  behindAnswers: WorkBehindAnswers | undefined,
  answer: AnswerWhen | undefined,
  work: () => Promise<unknown>,
  answerWith: () => Promise<T>,
): Promise<T> {
  if (answer === 'decided' && behindAnswers) {
    const answered = await answerWith();
    behindAnswers.start(work);
    return answered;
  }
  await work();
  return answerWith();
}
