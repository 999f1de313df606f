import { postJson } from '../../api.ts';
import { AgentText } from '../../AgentText.tsx';
import { OutcomeLine, useSubmit } from './forms.tsx';
import type { SectionProps } from './Settings.tsx';

/**
 * The quarantine's review queue (issue 21): records an agent wrote shortly before a kill switch
 * stopped it. A person checks each in the CRM and clears it here; a rollback clears those it covers.
 */
export function Reviews({ view, reload }: SectionProps) {
  const canClear = view.caller.permissions.rollBack;
  const change = useSubmit();
  const reviews = view.reviews ?? [];
  const agentName = (id: string) => view.agents.find((agent) => agent.id === id)?.name ?? id;
  const clear = (objectType: string, recordId: string) =>
    change.run(
      () => postJson('/console/api/reviews/clear', { objectType, recordId }),
      async () => {
        await reload();
        return `Review of ${recordId} cleared.`;
      },
    );
  return (
    <section aria-label="Review queue" className="card">
      <h2>Records to review</h2>
      {reviews.length === 0 ? (
        <p>No record waits for review.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Record</th>
              <th>Agent</th>
              <th>Why it was stopped</th>
              <th>Marked</th>
              {canClear && <th />}
            </tr>
          </thead>
          <tbody>
            {reviews.map((review) => (
              <tr key={review.id}>
                <td>{`${review.objectType} ${review.recordId}`}</td>
                <td>
                  <AgentText>{agentName(review.agentId)}</AgentText>
                </td>
                <td>
                  <AgentText>{review.reason}</AgentText>
                </td>
                <td>{new Date(review.markedAt).toLocaleString()}</td>
                {canClear && (
                  <td>
                    <button
                      type="button"
                      disabled={change.busy}
                      onClick={() => clear(review.objectType, review.recordId)}
                    >
                      Reviewed: clear
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <OutcomeLine outcome={change.outcome} />
    </section>
  );
}
