import { useCallback, useEffect, useRef, useState } from 'react';
import {
  Alert,
  Button,
  Divider,
  ErrorState,
  Flex,
  Heading,
  LoadingSpinner,
  Text,
  hubspot,
  useExtensionActions,
} from '@hubspot/ui-extensions';
import type { CreatedAgent, PublishedPolicy } from '../../../../shared/admin-api.ts';
import type { SettingsView } from '../../../../shared/extension-api.ts';
import type { Policy } from '../../../../shared/policy.ts';
import { backendFetcher, callBackend, type CallResult, type FetchInit, type Fetcher, type Send } from '../lib/api.ts';
import { EXTENSION_API_URL } from '../lib/deployment.ts';
import { createUseBackendData } from '../lib/load-state.ts';
import { createUseOneAtATime } from '../lib/one-at-a-time.ts';
import { agentActionDone, regressionFailures } from '../lib/views/agents.ts';
import { settingsControls } from '../lib/views/decision-controls.ts';
import { MATRIX_OBJECT_TYPES } from '../lib/views/policy-matrix.ts';
import { policyEditCount } from '../lib/views/policy-rules.ts';
import { AgentSafety } from './AgentSafety.tsx';
import { Agents, type AgentCommand } from './Agents.tsx';
import { Caps } from './Caps.tsx';
import { Conditions } from './Conditions.tsx';
import { ContentRules } from './ContentRules.tsx';
import { KillSwitches, type KillSwitchChange, type RefusedRelease } from './KillSwitches.tsx';
import { PendingRequests } from './PendingRequests.tsx';
import { People, type RoleChange } from './People.tsx';
import { PolicyHistory } from './PolicyHistory.tsx';
import { PolicyMatrix } from './PolicyMatrix.tsx';
import { PublishOutcome, publishProblem, type PublishProblem, PublishWarnings } from './PublishOutcome.tsx';
import { RecordCreation } from './RecordCreation.tsx';
import { Retention } from './Retention.tsx';
import { Windows } from './Windows.tsx';

const useBackendData = createUseBackendData({ useEffect, useRef, useState, useCallback });
const useOneAtATime = createUseOneAtATime({ useRef, useState, useCallback });

/** What a change pressed while another is being saved answers: it was not sent, and nothing is said. */
const NOT_SENT = {
  ok: false,
  status: 0,
  code: 'NOT_SENT',
  message: 'Another change is still being saved.',
} as const satisfies CallResult<never>;

hubspot.extend<'settings'>(() => <Settings fetcher={backendFetcher(hubspot.fetch, EXTENSION_API_URL)} />);

/**
 * The app's settings page (issue 8): the policy (matrix, conditions, caps, windows) edited as one
 * draft and published as a new version; changes dual control holds; people and teams' roles;
 * kill switches; agents (created with their token shown once, paused, resumed, revoked); policy
 * history, from which an earlier version is published again.
 */
export function Settings({ fetcher }: { fetcher: Fetcher }) {
  const actions = useExtensionActions<'settings'>();
  const { state, reload } = useBackendData<SettingsView>(fetcher, '/settings');
  /**
   * The edited policy and the version it was edited from, kept apart from the page's data: a reload
   * after another change on the page (a kill switch, a role) may bring a version another admin
   * published since, which this draft must not silently replace.
   */
  const [draft, setDraft] = useState<{ policy: Policy; basedOn: number | undefined } | null>(null);
  /** Counts drafts dropped (published, or held by dual control), so fields that keep typed text start afresh. */
  const [dropped, setDropped] = useState(0);
  const dropDraft = () => {
    setDraft(null);
    setDropped((count) => count + 1);
  };
  /** Why the last publish or restore did not take effect, shown beside the button that asked. */
  const [problem, setProblem] = useState<{ from: 'draft' | 'history'; problem: PublishProblem } | null>(null);
  /** What the last publish or restore that took effect warned of (a property the portal lacks), beside its button. */
  const [warned, setWarned] = useState<{ from: 'draft' | 'history'; published: Required<PublishedPolicy> } | null>(
    null,
  );
  const [created, setCreated] = useState<CreatedAgent | null>(null);
  const { busy, run } = useOneAtATime();
  const [refusedRelease, setRefusedRelease] = useState<RefusedRelease | null>(null);

  const send: Send = async <T,>(
    path: string,
    init: FetchInit,
    success: string | ((data: T) => string),
    failedTitle = 'Not saved',
  ) => {
    const sent = await run(async () => {
      const result = await callBackend<T>(fetcher, path, init);
      if (!result.ok) {
        actions.addAlert({ type: 'danger', title: failedTitle, message: result.message });
        return result;
      }
      actions.addAlert({ type: 'success', message: typeof success === 'string' ? success : success(result.data) });
      reload();
      return result;
    });
    return sent ?? NOT_SENT;
  };

  /** Publishing the draft and restoring a version both make the next version, and dual control may hold either. */
  const publishVersion = (
    from: 'draft' | 'history',
    path: string,
    init: FetchInit,
    success: (version: number) => string,
  ) =>
    run(async () => {
      const result = await callBackend<PublishedPolicy>(fetcher, path, init);
      setWarned(null);
      if (!result.ok) {
        const refused = publishProblem(result);
        setProblem({ from, problem: refused });
        // Dual control keeps the document in the request; the draft is no longer the one to edit.
        if (refused.kind === 'second_admin') {
          dropDraft();
          reload();
        }
        return;
      }
      setProblem(null);
      const { version, warnings } = result.data;
      if (warnings?.length) setWarned({ from, published: { version, warnings } });
      dropDraft();
      actions.addAlert({ type: 'success', message: success(result.data.version) });
      reload();
    });
  // `basedOn`: the version this draft was edited from, so a version published since is not silently replaced.
  const publish = (document: Policy, edits: number, basedOn: number | undefined) =>
    void publishVersion(
      'draft',
      '/policies',
      { method: 'POST', body: { document, ...(basedOn === undefined ? {} : { basedOn }) } },
      (version) => `Published policy version ${version} (${edits} change${edits === 1 ? '' : 's'}).`,
    );
  const restore = (version: number) =>
    void publishVersion(
      'history',
      `/policies/${version}/restore`,
      { method: 'POST' },
      (published) => `Version ${version} is in force again, published as version ${published}.`,
    );

  const commandAgent = async (command: AgentCommand) => {
    if (command.kind !== 'create')
      return send(
        `/agents/${command.id}/${command.kind}`,
        { method: 'POST' },
        agentActionDone(command.kind, command.name),
      );
    return run(async () => {
      const result = await callBackend<CreatedAgent>(fetcher, '/agents', {
        method: 'POST',
        body: { name: command.name, role: command.role },
      });
      if (!result.ok) return actions.addAlert({ type: 'danger', title: 'Agent not created', message: result.message });
      setCreated(result.data);
      reload();
    });
  };

  /** A release refused for a failing regression set keeps its failures on show, for an owner to force it past them. */
  const changeKillSwitch = async (change: KillSwitchChange) => {
    const result = await send(
      '/kill-switches',
      { method: 'PUT', body: { ...change } },
      change.engaged ? 'Kill switch engaged.' : 'Kill switch released.',
    );
    if (result === NOT_SENT) return;
    const failures = result.ok ? null : regressionFailures(result);
    setRefusedRelease(failures ? { change, failures } : null);
  };

  const changeRole = ({ kind, id, role }: RoleChange) => {
    const path = `${kind === 'person' ? '/people' : '/team-roles'}/${id}`;
    const who = kind === 'person' ? `HubSpot user ${id}` : `HubSpot team ${id}`;
    void send(
      path,
      role ? { method: 'PUT', body: { role } } : { method: 'DELETE' },
      role ? `${who} is now ${role}.` : `${who} has no role of their own now.`,
    );
  };

  if (state.kind === 'loading') return <LoadingSpinner label="Loading governance settings" />;
  if (state.kind === 'forbidden')
    return (
      <Alert title="No access" variant="warning">
        {state.message}
      </Alert>
    );
  if (state.kind === 'error')
    return (
      <ErrorState title="Settings could not load.">
        <Text>{state.message}</Text>
        <Button onClick={reload}>Try again</Button>
      </ErrorState>
    );

  const view = state.data;
  const controls = settingsControls(view.caller.permissions);
  const active = view.policy?.policy ?? null;
  const shown = draft?.policy ?? active;
  const edits = active && draft ? policyEditCount(active, draft.policy) : 0;
  const edit = (policy: Policy) => {
    setDraft({ policy, basedOn: draft ? draft.basedOn : view.policy?.version });
    setProblem(null);
    setWarned(null);
  };
  return (
    <Flex direction="column" gap="md">
      <PendingRequests
        view={view}
        onDecide={(id, decision) =>
          void send(
            `/governance-requests/${id}/${decision}`,
            { method: 'POST' },
            decision === 'confirm' ? 'Confirmed: the change is in force.' : 'The request is cancelled.',
          )
        }
      />
      <Heading>Policy {view.policy ? `version ${view.policy.version}` : '(none published)'}</Heading>
      {!controls.editPolicy ? (
        <Text variant="microcopy">Your role can read the policy; owners and RevOps admins change it.</Text>
      ) : null}
      {shown ? (
        <>
          {MATRIX_OBJECT_TYPES.map((objectType) => (
            <PolicyMatrix
              key={objectType}
              objectType={objectType}
              policy={shown}
              editable={controls.editPolicy}
              onChange={edit}
            />
          ))}
          {MATRIX_OBJECT_TYPES.map((objectType) => (
            <RecordCreation
              key={objectType}
              objectType={objectType}
              policy={shown}
              editable={controls.editPolicy}
              onChange={edit}
            />
          ))}
          <ContentRules key={dropped} policy={shown} editable={controls.editPolicy} onChange={edit} />
          <Conditions policy={shown} editable={controls.editPolicy} onChange={edit} />
          <Caps policy={shown} editable={controls.editPolicy} onChange={edit} />
          <Windows policy={shown} editable={controls.editPolicy} onChange={edit} />
        </>
      ) : (
        <Text>No policy yet: every agent write is refused until one is published.</Text>
      )}
      {problem?.from === 'draft' ? <PublishOutcome problem={problem.problem} /> : null}
      {warned?.from === 'draft' ? <PublishWarnings {...warned.published} /> : null}
      {controls.publish && draft ? (
        <Button
          testId="publish"
          variant="primary"
          disabled={busy || edits === 0}
          onClick={() => publish(draft.policy, edits, draft.basedOn)}
        >
          {`Publish ${edits} change${edits === 1 ? '' : 's'}`}
        </Button>
      ) : null}
      <Divider />
      <People view={view} fetcher={fetcher} onChange={changeRole} />
      <Divider />
      <KillSwitches
        view={view}
        editable={controls.toggleKillSwitches}
        canForce={controls.forceRelease}
        refused={refusedRelease}
        onChange={(change) => void changeKillSwitch(change)}
      />
      <Divider />
      <Agents
        view={view}
        editable={controls.manageAgents}
        busy={busy}
        created={created}
        onCommand={(command) => void commandAgent(command)}
        onTokenCopied={() => setCreated(null)}
      />
      <AgentSafety view={view} fetcher={fetcher} send={send} editable={controls.manageAgents} />
      <Divider />
      <PolicyHistory
        view={view}
        editable={controls.restorePolicy}
        draftPending={edits > 0}
        busy={busy}
        onRestore={restore}
      >
        {problem?.from === 'history' ? <PublishOutcome problem={problem.problem} /> : null}
        {warned?.from === 'history' ? <PublishWarnings {...warned.published} /> : null}
      </PolicyHistory>
      <Divider />
      <Retention fetcher={fetcher} editable={controls.setRetention} send={send} />
    </Flex>
  );
}
