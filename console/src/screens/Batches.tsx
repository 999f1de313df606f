import { Link, useSearch } from 'wouter';
import type { BatchesPage } from '../../../shared/console-api.ts';
import { getJson, query } from '../api.ts';
import { AgentText } from '../AgentText.tsx';
import { useLoad } from '../use-load.ts';

export function Batches() {
  const cursor = new URLSearchParams(useSearch()).get('cursor') ?? undefined;
  const [home] = useLoad(() => getJson<BatchesPage>(`/console/api/batches${query({ cursor })}`), cursor ?? '');
  return (
    <section>
      <h1>Batches</h1>
      {home.state === 'loading' && <p className="notice">Loading…</p>}
      {home.state === 'failed' && <p role="alert">{home.message}</p>}
      {home.state === 'ready' && (
        <table>
          <thead>
            <tr>
              <th>Batch</th>
              <th>Agents</th>
              <th>Change sets</th>
              <th>Waiting for a person</th>
              <th>Last change</th>
            </tr>
          </thead>
          <tbody>
            {home.data.batches.map((batch) => (
              <tr key={batch.batchId}>
                <td>
                  <Link href={`/batches/${encodeURIComponent(batch.batchId)}`}>
                    <AgentText>{batch.batchId}</AgentText>
                  </Link>
                </td>
                <td>
                  <AgentText>{batch.agents.join(', ')}</AgentText>
                </td>
                <td>{batch.changeSets}</td>
                <td>{batch.pendingApprovals}</td>
                <td>{new Date(batch.lastAt).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {home.state === 'ready' && (
        <nav aria-label="Pages" className="actions">
          {cursor && <Link href="/batches">First page</Link>}
          {home.data.next && <Link href={`/batches${query({ cursor: home.data.next })}`}>Next page</Link>}
        </nav>
      )}
    </section>
  );
}
