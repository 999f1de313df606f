import type { CardView } from '../../../shared/extension-api.ts';
import { groupByChangeSet, killSwitchNotice, showValue } from '../../../shared/views/proposal-view.ts';
import { getJson } from '../api.ts';
import { AgentText } from '../AgentText.tsx';
import { HeldEntryCard } from '../HeldEntryCard.tsx';
import { PendingCard } from '../PendingCard.tsx';
import { useLoad } from '../use-load.ts';

/** What the HubSpot card shows for one record: its proposals and the agents' recent changes. */
export function RecordPage(props: { objectType: string; recordId: string }) {
  const path = `/console/api/records/${encodeURIComponent(props.objectType)}/${encodeURIComponent(props.recordId)}`;
  const [card, reload] = useLoad(() => getJson<CardView>(path), path);
  return (
    <section>
      <h1>
        {props.objectType} {props.recordId}
      </h1>
      {card.state === 'loading' && <p className="notice">Loading…</p>}
      {card.state === 'failed' && <p role="alert">{card.message}</p>}
      {card.state === 'ready' && (
        <>
          {killSwitchNotice(card.data.killSwitches) && (
            <p className="warning">{killSwitchNotice(card.data.killSwitches)}</p>
          )}
          <h2>Waiting for a decision ({card.data.pending.total})</h2>
          {card.data.pending.items.map((pending) => (
            <PendingCard
              key={pending.approval.id}
              card={pending}
              killSwitchEngaged={card.data.killSwitches.length > 0}
              onDecided={reload}
            />
          ))}
          {card.data.drafts.length > 0 && <p>{card.data.drafts.length} held draft(s) on this record.</p>}
          {(card.data.heldEntries ?? []).map((entry) => (
            <HeldEntryCard
              key={entry.approval.id}
              entry={entry}
              killSwitchEngaged={card.data.killSwitches.length > 0}
              onDecided={reload}
            />
          ))}
          <h2>Recent changes by agents</h2>
          {groupByChangeSet(card.data.recentChanges).map((group) => (
            <table key={group.changeSetId} aria-label={`Change set ${group.changeSetId}`}>
              <thead>
                <tr>
                  <th>Property</th>
                  <th>Before</th>
                  <th>After</th>
                  <th>Agent</th>
                  <th>Batch</th>
                  <th>When</th>
                </tr>
              </thead>
              <tbody>
                {group.changes.map((change) => (
                  <tr key={change.changeId}>
                    <td>{change.property}</td>
                    <td>
                      <AgentText>{showValue(change.before).text}</AgentText>
                    </td>
                    <td>
                      <AgentText>{showValue(change.after).text}</AgentText>
                    </td>
                    <td>
                      <AgentText>{change.agent.name}</AgentText>
                    </td>
                    <td>
                      <AgentText>{change.batchId}</AgentText>
                    </td>
                    <td>{new Date(change.at).toLocaleString()}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
        </>
      )}
    </section>
  );
}
