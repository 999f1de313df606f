import { Link } from 'wouter';
import type { HomeView } from '../../../shared/extension-api.ts';
import { getJson } from '../api.ts';
import { useLoad } from '../use-load.ts';

export function Batches() {
  const [home] = useLoad(() => getJson<HomeView>('/console/api/batches'), 'batches');
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
                  <Link href={`/batches/${encodeURIComponent(batch.batchId)}`}>{batch.batchId}</Link>
                </td>
                <td>{batch.agents.join(', ')}</td>
                <td>{batch.changeSets}</td>
                <td>{batch.pendingApprovals}</td>
                <td>{new Date(batch.lastAt).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
