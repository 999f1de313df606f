import { useState } from 'react';
import type { z } from 'zod';
import { describeZodIssue, readableMessage } from '../../../../shared/zod-issues.ts';
import { deleteJson } from '../../api.ts';

/** A form's input checked with the server's own schema: the value, or the sentences the server would answer. */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
): { ok: true; value: z.infer<S> } | { ok: false; message: string } {
  const result = schema.safeParse(input, { error: readableMessage });
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

/** A field's text as a number for the schema to check, or absent when blank (the schema's default applies). */
export function numberOrAbsent(text: string): number | undefined {
  return text.trim() === '' ? undefined : Number(text);
}

/** Remove, asked twice: the first click names what removing does, the second does it. */
/** A listed row's Remove control: asks first, then deletes `path`, loads the list again and says `removed`. */
export function RemoveCell(props: {
  what: string;
  warning: string;
  path: string;
  removed: string;
  submit: ReturnType<typeof useSubmit>;
  reload: () => Promise<void>;
}) {
  const { submit, reload } = props;
  return (
    <td className="actions">
      <ConfirmRemove
        what={props.what}
        warning={props.warning}
        busy={submit.busy}
        remove={() =>
          submit.run(
            () => deleteJson(props.path),
            async () => {
              await reload();
              return props.removed;
            },
          )
        }
      />
    </td>
  );
}

function ConfirmRemove(props: { what: string; warning: string; busy: boolean; remove: () => unknown }) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" aria-label={`Remove ${props.what}`} onClick={() => setAsking(true)}>
        Remove…
      </button>
    );
  return (
    <>
      <span className="warning">{props.warning}</span>{' '}
      <button
        type="button"
        disabled={props.busy}
        onClick={() => {
          setAsking(false);
          props.remove();
        }}
      >
        Confirm remove
      </button>{' '}
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </>
  );
}
