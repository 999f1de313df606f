import React, { useCallback, useEffect, useRef, useState } from 'react';
import { Alert, Button, Divider, ErrorState, Flex, Heading, LoadingSpinner, Table, TableBody, TableCell, TableHead, TableHeader, TableRow, Text, hubspot, useExtensionActions } from '@hubspot/ui-extensions';
import type { SettingsView } from '../../../../shared/extension-api.ts';
import type { Policy } from '../../../../shared/policy.ts';
import { backendFetcher, callBackend, type Fetcher } from '../lib/api.ts';
import { EXTENSION_API_URL } from '../lib/deployment.ts';
import { createUseBackendData } from '../lib/load-state.ts';
import { settingsControls } from '../lib/views/decision-controls.ts';
import { MATRIX_OBJECT_TYPES, changedCells } from '../lib/views/policy-matrix.ts';
import { KillSwitches, type KillSwitchChange } from './KillSwitches.tsx';
import { PolicyMatrix } from './PolicyMatrix.tsx';

const useBackendData = createUseBackendData({ useEffect, useRef, useState, useCallback });

hubspot.extend<'settings'>(() => <Settings fetcher={backendFetcher(hubspot.fetch, EXTENSION_API_URL)} />);

/** The app's settings page (issue 8): the policy matrix and publishing, kill switches, agents, policy history. */
export function Settings({ fetcher }: { fetcher: Fetcher }) {
  const actions = useExtensionActions<'settings'>();
  const { state, reload } = useBackendData<SettingsView>(fetcher, '/settings');
  const [draft, setDraft] = useState<Policy | null>(null);
  const [busy, setBusy] = useState(false);

  const send = async (path: string, method: 'POST' | 'PUT', body: Record<string, unknown>, success: string) => {
    setBusy(true);
    const result = await callBackend(fetcher, path, { method, body });
    setBusy(false);
    if (!result.ok) return actions.addAlert({ type: 'danger', title: 'Not saved', message: result.message });
    actions.addAlert({ type: 'success', message: success });
    setDraft(null);
    reload();
  };

  if (state.kind === 'loading') return <LoadingSpinner label="Loading governance settings" />;
  if (state.kind === 'forbidden') return <Alert title="No access" variant="warning">{state.message}</Alert>;
  if (state.kind === 'error') return <ErrorState title="Settings could not load."><Text>{state.message}</Text><Button onClick={reload}>Try again</Button></ErrorState>;

  const view = state.data;
  const controls = settingsControls(view.caller.permissions);
  const active = view.policy?.policy ?? null;
  const shown = draft ?? active;
  const changes = active && draft ? changedCells(active, draft, MATRIX_OBJECT_TYPES) : 0;
  return (
    <Flex direction="column" gap="md">
      <Heading>Policy {view.policy ? `version ${view.policy.version}` : '(none published)'}</Heading>
      {!controls.editPolicy ? <Text variant="microcopy">Your role can read the policy; owners and RevOps admins change it.</Text> : null}
      {shown ? MATRIX_OBJECT_TYPES.map((objectType) => <PolicyMatrix key={objectType} objectType={objectType} policy={shown} editable={controls.editPolicy} onChange={setDraft} />) : <Text>No policy yet: every agent write is refused until one is published.</Text>}
      {controls.publish && draft ? (
        <Button testId="publish" variant="primary" disabled={busy || changes === 0} onClick={() => void send('/policies', 'POST', { document: draft }, `Published a new policy version (${changes} change${changes === 1 ? '' : 's'}).`)}>
          {`Publish ${changes} change${changes === 1 ? '' : 's'}`}
        </Button>
      ) : null}
      <Divider />
      <KillSwitches view={view} editable={controls.toggleKillSwitches} onChange={(change: KillSwitchChange) => void send('/kill-switches', 'PUT', { ...change }, change.engaged ? 'Kill switch engaged.' : 'Kill switch released.')} />
      <Divider />
      <Heading>Agents</Heading>
      <Table>
        <TableHead><TableRow><TableHeader>Name</TableHeader><TableHeader>Role</TableHeader><TableHeader>Status</TableHeader></TableRow></TableHead>
        <TableBody>{view.agents.map((agent) => <TableRow key={agent.id}><TableCell>{agent.name}</TableCell><TableCell>{agent.role}</TableCell><TableCell>{agent.status}</TableCell></TableRow>)}</TableBody>
      </Table>
      <Heading>Policy history</Heading>
      <Table>
        <TableHead><TableRow><TableHeader>Version</TableHeader><TableHeader>Published by</TableHeader><TableHeader>At</TableHeader></TableRow></TableHead>
        <TableBody>{view.history.map((row) => <TableRow key={row.version}><TableCell>{String(row.version)}</TableCell><TableCell>{row.publishedBy}</TableCell><TableCell>{new Date(row.createdAt).toLocaleString()}</TableCell></TableRow>)}</TableBody>
      </Table>
    </Flex>
  );
}
