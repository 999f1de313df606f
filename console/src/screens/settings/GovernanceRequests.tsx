import { isOwnRequest, requestSummary } from '../../../../shared/views/access.ts';
import { ApiError, postJson } from '../../api.ts';
import { OutcomeLine, useSubmit } from './forms.tsx';
import type { SectionProps } from './Settings.tsx';

export const SECOND_ADMIN_NOTE = 'a second admin must confirm it (see “Waiting for a second admin” above).';

/** A publish or kill-switch release that dual control holds, sent as 409 SECOND_ADMIN_REQUIRED: said, not thrown. */
export function heldForSecondAdmin<T>(call: Promise<T>): Promise<T | { heldBy: ApiError }> {
  return call.catch((error: unknown) => {
    if (error instanceof ApiError && error.code === 'SECOND_ADMIN_REQUIRED') return { heldBy: error };
    throw error;
  });
}

export function isHeld<T>(result: T | { heldBy: ApiError }): result is { heldBy: ApiError } {
  return typeof result === 'object' && result !== null && 'heldBy' in result;
}

/** What waits for a second admin, on every settings section: Confirm (never for the one who asked) and Cancel. */
export function GovernanceRequests({ view, reload }: SectionProps) {
  const decide = useSubmit();
  // Once the last request is decided the list is empty, but what the decision did still shows.
  if (view.governanceRequests.length === 0) return <OutcomeLine outcome={decide.outcome} />;
  const { permissions, userId } = view.caller;
  return (
    <section aria-label="Waiting for a second admin" className="card warning">
      <h2>Waiting for a second admin</h2>
      <ul>
        {view.governanceRequests.map((request) => (
          <li key={request.id}>
            {requestSummary(request)}
            {permissions.confirmGovernance && (
              <span className="actions">
                {!isOwnRequest(request, userId) && (
                  <button
                    type="button"
                    disabled={decide.busy}
                    onClick={() =>
                      decide.run(
                        () => postJson(`/console/api/governance-requests/${request.id}/confirm`),
                        async () => {
                          await reload();
                          return 'Confirmed: the change is in force.';
                        },
                      )
                    }
                  >
                    Confirm
                  </button>
                )}
                <button
                  type="button"
                  disabled={decide.busy}
                  onClick={() =>
                    decide.run(
                      () => postJson(`/console/api/governance-requests/${request.id}/cancel`),
                      async () => {
                        await reload();
                        return 'Cancelled.';
                      },
                    )
                  }
                >
                  Cancel
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
      <OutcomeLine outcome={decide.outcome} />
    </section>
  );
}
