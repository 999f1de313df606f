import { lazy, Suspense } from 'react';
import type { SessionView } from '../../shared/console-api.ts';
import { Link, Redirect, Route, Switch } from 'wouter';
import { postJson, getJson } from './api.ts';
import { Audit } from './screens/Audit.tsx';
import { AuditAction } from './screens/AuditAction.tsx';
import { Batch } from './screens/Batch.tsx';
import { Batches } from './screens/Batches.tsx';
import { DraftAudit } from './screens/DraftAudit.tsx';
import { Inbox } from './screens/Inbox.tsx';
import { RecordPage } from './screens/RecordPage.tsx';
import { useLoad } from './use-load.ts';

// Loaded when opened, so the first page's JavaScript stays small (the charts library above all).
const Overview = lazy(() => import('./screens/Overview.tsx'));
const Settings = lazy(() => import('./screens/settings/Settings.tsx'));

export function App() {
  const [session] = useLoad(() => getJson<SessionView>('/console/api/session'), 'session');
  if (session.state === 'loading') return <p className="notice">Loading…</p>;
  if (session.state === 'failed')
    return (
      <main className="signed-out">
        <h1>Agent Governance</h1>
        <p>{session.message}</p>
        <p>
          Run <code>npx agent-governance console-link --workspace ID</code> (or read the link <code>npm start</code>{' '}
          prints) and open it here.
        </p>
      </main>
    );
  const { workspace, caller } = session.data;
  const { permissions } = caller;
  const signOut = () => postJson('/console/api/sign-out').finally(() => window.location.assign('/'));
  return (
    <>
      <header className="top">
        <strong>Agent Governance</strong>
        <nav aria-label="Console">
          <Link href="/inbox">Inbox</Link>
          {permissions.searchAudit && <Link href="/batches">Batches</Link>}
          {permissions.searchAudit && <Link href="/audit">Audit</Link>}
          {permissions.searchAudit && <Link href="/overview">Overview</Link>}
          {permissions.readSettings && <Link href="/settings">Settings</Link>}
        </nav>
        <span className="who">
          {workspace.name} · user {caller.userId} ({permissions.role})
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        <Switch>
          <Route path="/inbox">
            <Inbox />
          </Route>
          <Route path="/records/:objectType/:recordId">
            {(params) => <RecordPage objectType={params.objectType} recordId={params.recordId} />}
          </Route>
          {permissions.searchAudit && (
            <Route path="/batches">
              <Batches />
            </Route>
          )}
          {permissions.searchAudit && (
            <Route path="/batches/:batchId">
              {(params) => <Batch batchId={decodeURIComponent(params.batchId)} canRollBack={permissions.rollBack} />}
            </Route>
          )}
          {permissions.searchAudit && (
            <Route path="/audit">
              <Audit />
            </Route>
          )}
          {permissions.searchAudit && (
            <Route path="/audit/drafts/:id">{(params) => <DraftAudit id={params.id} />}</Route>
          )}
          {permissions.searchAudit && <Route path="/audit/:seq">{(params) => <AuditAction seq={params.seq} />}</Route>}
          {permissions.searchAudit && (
            <Route path="/overview">
              <Suspense fallback={<p className="notice">Loading…</p>}>
                <Overview />
              </Suspense>
            </Route>
          )}
          {permissions.readSettings && (
            <Route path="/settings" nest>
              <Suspense fallback={<p className="notice">Loading…</p>}>
                <Settings />
              </Suspense>
            </Route>
          )}
          <Route path="/">
            <Redirect to="/inbox" />
          </Route>
          <Route>
            <p className="notice">There is nothing here for your role. Go to the inbox.</p>
          </Route>
        </Switch>
      </main>
    </>
  );
}
