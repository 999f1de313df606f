import { useLocation, useSearch } from 'wouter';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { OverviewView } from '../../../shared/console-settings-api.ts';
import { visibleText } from '../../../shared/views/display-text.ts';
import { getJson } from '../api.ts';
import { useLoad } from '../use-load.ts';

const RANGES = [7, 30, 90] as const;
const OUTCOME_COLORS = { applied: '#2f8f5b', pending_approval: '#d9a400', denied: '#c0392b', failed: '#6c3483' };
const percent = (value: number | null) => (value === null ? null : Math.round(value * 1000) / 10);

/** Charts where people would rather look than read (issue 19); the server aggregates, this only draws. */
export default function Overview() {
  const [, navigate] = useLocation();
  const days = Number(new URLSearchParams(useSearch()).get('days') ?? 30);
  const [overview] = useLoad(() => getJson<OverviewView>(`/console/api/overview?days=${days}`), String(days));
  return (
    <section>
      <h1>Overview</h1>
      <div className="actions">
        {RANGES.map((range) => (
          <button
            key={range}
            type="button"
            aria-pressed={range === days}
            onClick={() => navigate(`/overview?days=${range}`)}
          >
            {range} days
          </button>
        ))}
      </div>
      {overview.state === 'loading' && <p className="notice">Loading…</p>}
      {overview.state === 'failed' && <p role="alert">{overview.message}</p>}
      {overview.state === 'ready' && <Charts view={overview.data} />}
    </section>
  );
}

function Charts({ view }: { view: OverviewView }) {
  const agents = view.agents.map((agent) => ({
    name: visibleText(agent.name),
    rejection: percent(agent.rejectionRate),
    qaError: percent(agent.qaErrorRate),
  }));
  const properties = view.topProperties.map((row) => ({
    name: `${row.objectType}.${row.property}`,
    applied: row.applied,
  }));
  return (
    <div className="charts">
      <Chart title="Decisions per day, by outcome">
        <BarChart data={view.decisionsPerDay}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="day" />
          <YAxis allowDecimals={false} />
          <Tooltip />
          <Legend />
          {Object.entries(OUTCOME_COLORS).map(([outcome, color]) => (
            <Bar key={outcome} dataKey={outcome} stackId="decisions" fill={color} isAnimationActive={false} />
          ))}
        </BarChart>
      </Chart>
      <Chart
        title="Rejection rate and QA error rate per agent (%)"
        note={
          agents.every((agent) => agent.rejection === null && agent.qaError === null)
            ? 'No approval decided and no QA review done in this period.'
            : null
        }
      >
        <BarChart data={agents}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="name" />
          <YAxis domain={[0, 100]} />
          <Tooltip />
          <Legend />
          <Bar dataKey="rejection" name="rejected by people" fill="#c0392b" isAnimationActive={false} />
          <Bar dataKey="qaError" name="wrong in QA" fill="#6c3483" isAnimationActive={false} />
        </BarChart>
      </Chart>
      <Chart title="Top changed properties (applied writes)">
        <BarChart data={properties} layout="vertical">
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis type="number" allowDecimals={false} />
          <YAxis type="category" dataKey="name" width={220} />
          <Tooltip />
          <Bar dataKey="applied" fill="#2f6fde" isAnimationActive={false} />
        </BarChart>
      </Chart>
      <Chart title="Bypass writes detected per day">
        <BarChart data={view.bypassWritesPerDay}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="day" />
          <YAxis allowDecimals={false} />
          <Tooltip />
          <Bar dataKey="count" name="bypass writes" fill="#d35400" isAnimationActive={false} />
        </BarChart>
      </Chart>
      <section aria-label="Kill-trigger events" className="card">
        <h2>Kill-trigger events</h2>
        {view.killTriggerEvents.length === 0 ? (
          <p>No trigger engaged a kill switch in this period.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>When</th>
                <th>Switch</th>
                <th>Why</th>
              </tr>
            </thead>
            <tbody>
              {view.killTriggerEvents.map((event) => (
                <tr key={event.seq}>
                  <td>{new Date(event.occurredAt).toLocaleString()}</td>
                  <td>
                    {event.scope}
                    {event.target ? ` ${event.target}` : ''}
                  </td>
                  <td>{event.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

function Chart(props: { title: string; note?: string | null; children: React.ReactElement }) {
  return (
    <section aria-label={props.title} className="card chart">
      <h2>{props.title}</h2>
      {props.note && <p className="muted">{props.note}</p>}
      <ResponsiveContainer width="100%" height={260}>
        {props.children}
      </ResponsiveContainer>
    </section>
  );
}
