import { Link, Redirect, Route, Switch } from 'wouter';
import type { SettingsView } from '../../../../shared/extension-api.ts';
import { getJson } from '../../api.ts';
import { useLoad } from '../../use-load.ts';
import { Agents } from './Agents.tsx';
import { Alerts } from './Alerts.tsx';
import { AuditStreaming } from './AuditStreaming.tsx';
import { GovernanceRequests } from './GovernanceRequests.tsx';
import { KillSwitches } from './KillSwitches.tsx';
import { People } from './People.tsx';
import { PolicyEditor } from './PolicyEditor.tsx';
import { Retention } from './Retention.tsx';
import { Reviews } from './Reviews.tsx';
import { Versions } from './Versions.tsx';

const SECTIONS = [
  ['/policy', 'Policy'],
  ['/versions', 'Versions'],
  ['/agents', 'Agents'],
  ['/people', 'People'],
  ['/kill-switches', 'Kill switches'],
  ['/retention', 'Retention'],
  ['/streaming', 'Audit streaming'],
  ['/alerts', 'Alerts'],
] as const;

/** Governance settings (issue 19), a deep link per section under /settings (routes here are nested, so relative); the same settings as the HubSpot settings page. */
export default function Settings() {
  const [view, reload] = useLoad(() => getJson<SettingsView>('/console/api/settings'), 'settings');
  return (
    <section>
      <h1>Settings</h1>
      <nav aria-label="Settings" className="subnav">
        {SECTIONS.map(([href, label]) => (
          <Link key={href} href={href} className={(active) => (active ? 'current' : '')}>
            {label}
          </Link>
        ))}
      </nav>
      {view.state === 'loading' && <p className="notice">Loading…</p>}
      {view.state === 'failed' && <p role="alert">{view.message}</p>}
      {view.state === 'ready' && <GovernanceRequests view={view.data} reload={reload} />}
      {view.state === 'ready' && (
        <Switch>
          <Route path="/policy">
            <PolicyEditor view={view.data} reload={reload} />
          </Route>
          <Route path="/versions">
            <Versions view={view.data} reload={reload} />
          </Route>
          <Route path="/agents">
            <Agents view={view.data} reload={reload} />
          </Route>
          <Route path="/people">
            <People view={view.data} reload={reload} />
          </Route>
          <Route path="/kill-switches">
            <KillSwitches view={view.data} reload={reload} />
            <Reviews view={view.data} reload={reload} />
          </Route>
          <Route path="/retention">
            <Retention view={view.data} reload={reload} />
          </Route>
          <Route path="/streaming">
            <AuditStreaming view={view.data} reload={reload} />
          </Route>
          <Route path="/alerts">
            <Alerts view={view.data} reload={reload} />
          </Route>
          <Route>
            <Redirect to="/policy" replace />
          </Route>
        </Switch>
      )}
    </section>
  );
}

export interface SectionProps {
  view: SettingsView;
  reload: () => Promise<void>;
}
