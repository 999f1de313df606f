import { useState } from 'react';
import type { z } from 'zod';
import { describeZodIssue } from '../../../../shared/zod-issues.ts';

/** A form's input checked with the server's own schema: the value, or the sentences the server would answer. */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
): { ok: true; value: z.infer<S> } | { ok: false; message: string } {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    message: result.error.issues
      .map(describeZodIssue)
      .map((issue) => `${issue.path === '(root)' ? '' : `${issue.path} `}${issue.message}`)
      .join('; '),
  };
}

export type Outcome = { kind: 'done' | 'failed'; message: string } | null;

/** One button's call to the server: busy while it runs, then what it did or why it was refused. */
export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  // `done` may wait (for the screen's data to load again) before its sentence shows, so what follows sees fresh data.
  const run = <T,>(call: () => Promise<T>, done: (result: T) => string | Promise<string>) => {
    setBusy(true);
    setOutcome(null);
    return call()
      .then(
        async (result) => setOutcome({ kind: 'done', message: await done(result) }),
        (error: Error) => setOutcome({ kind: 'failed', message: error.message }),
      )
      .finally(() => setBusy(false));
  };
  return { busy, outcome, setOutcome, run };
}

export function OutcomeLine({ outcome }: { outcome: Outcome }) {
  if (!outcome) return null;
  return outcome.kind === 'done' ? <p role="status">{outcome.message}</p> : <p role="alert">{outcome.message}</p>;
}
