import { useCallback, useEffect, useRef, useState } from 'react';
import {
  Alert,
  Button,
  ButtonRow,
  DescriptionList,
  DescriptionListItem,
  Flex,
  Heading,
  Input,
  LoadingSpinner,
  Select,
  Text,
  TextArea,
} from '@hubspot/ui-extensions';
import type { AgentSafetyView, RegressionRun, RegressionSet } from '../../../../shared/agent-safety-api.ts';
import type { SettingsView } from '../../../../shared/extension-api.ts';
import { callBackend, type CallResult, type Fetcher, type Send } from '../lib/api.ts';
import { createUseBackendData } from '../lib/load-state.ts';
import { GATE_ACCEPTED, GATE_BUTTON, acceptableGates, regressionRunText, safetyFacts } from '../lib/views/agents.ts';
import { visibleText } from '../lib/views/display-text.ts';

const useBackendData = createUseBackendData({ useEffect, useRef, useState, useCallback });

interface AgentSafetyProps {
  view: SettingsView;
  fetcher: Fetcher;
  send: Send;
  /** Owners and RevOps admins accept changes and edit regression sets; everyone who reads settings runs them. */
  editable: boolean;
}

/**
 * Safe re-enable and gates on change (issue 21), per agent: what holds its writes now, accepting a
 * new prompt hash or the day's volume, and its regression set, edited as JSON and run on demand.
 */
export function AgentSafety({ view, fetcher, send, editable }: AgentSafetyProps) {
  const agents = view.agents.filter((agent) => agent.status !== 'revoked');
  const [agentId, setAgentId] = useState(agents[0]?.id ?? '');
  if (!agentId) return null;
  return (
    <Flex direction="column" gap="xs">
      <Heading>Agent safety and regression sets</Heading>
      <Select
        name="safety-agent"
        label="Agent"
        options={agents.map((agent) => ({ label: visibleText(agent.name), value: agent.id }))}
        value={agentId}
        onChange={(value) => setAgentId(String(value))}
      />
      <SafetyOf key={agentId} agentId={agentId} fetcher={fetcher} send={send} editable={editable} />
    </Flex>
  );
}

function SafetyOf({ agentId, fetcher, send, editable }: { agentId: string } & Omit<AgentSafetyProps, 'view'>) {
  const safety = useBackendData<AgentSafetyView>(fetcher, `/agents/${agentId}/safety`);
  const set = useBackendData<RegressionSet>(fetcher, `/agents/${agentId}/regression-set`);
  const [reason, setReason] = useState('');
  const accept = async (gate: 'prompt' | 'volume') => {
    const result = await send(
      `/agents/${agentId}/change-acceptances`,
      { method: 'POST', body: { gate, reason: reason.trim() } },
      GATE_ACCEPTED[gate],
      'Not accepted',
    );
    if (!result.ok) return;
    setReason('');
    safety.reload();
  };
  const gates = safety.state.kind === 'ready' ? acceptableGates(safety.state.data) : [];
  return (
    <Flex direction="column" gap="xs">
      {safety.state.kind === 'loading' ? <LoadingSpinner label="Loading the agent's safety" /> : null}
      {safety.state.kind === 'error' || safety.state.kind === 'forbidden' ? <Text>{safety.state.message}</Text> : null}
      {safety.state.kind === 'ready' ? (
        <DescriptionList direction="row">
          {safetyFacts(safety.state.data).map(({ label, value }) => (
            <DescriptionListItem key={label} label={label}>
              <Text>{value}</Text>
            </DescriptionListItem>
          ))}
        </DescriptionList>
      ) : null}
      {editable && gates.length > 0 ? (
        <Flex gap="sm" align="end" wrap="wrap">
          <Input name="acceptance-reason" label="Reason (required)" value={reason} onChange={setReason} />
          <ButtonRow>
            {gates.map((gate) => (
              <Button
                key={gate}
                testId={`accept-${gate}`}
                size="xs"
                disabled={reason.trim() === ''}
                onClick={() => void accept(gate)}
              >
                {GATE_BUTTON[gate]}
              </Button>
            ))}
          </ButtonRow>
        </Flex>
      ) : null}
      {set.state.kind === 'error' || set.state.kind === 'forbidden' ? <Text>{set.state.message}</Text> : null}
      {set.state.kind === 'ready' ? (
        <RegressionEditor
          key={JSON.stringify(set.state.data)}
          agentId={agentId}
          initial={set.state.data}
          fetcher={fetcher}
          send={send}
          editable={editable}
          onStored={set.reload}
        />
      ) : null}
    </Flex>
  );
}

/**
 * The cases as typed: an object, or why not. The server checks each case with its own schema and
 * answers its sentence; this only keeps text that is no JSON object from being sent.
 */
function casesFromText(text: string): { ok: true; set: Record<string, unknown> } | { ok: false; message: string } {
  let value: unknown;
  try {
    // The page runs in the browser; the shared parseJson is not bundled with it (HubSpot bundles only extension/src).
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `The regression set is not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, message: 'The regression set must be an object: {"cases": [...]}.' };
  return { ok: true, set: value as Record<string, unknown> };
}

function RegressionEditor(props: {
  agentId: string;
  initial: RegressionSet;
  fetcher: Fetcher;
  send: Send;
  editable: boolean;
  onStored: () => void;
}) {
  const { agentId, editable } = props;
  const [text, setText] = useState(JSON.stringify(props.initial, null, 2));
  const [run, setRun] = useState<CallResult<RegressionRun> | null>(null);
  const [running, setRunning] = useState(false);
  const typed = casesFromText(text);
  const store = async () => {
    if (!typed.ok) return;
    const result = await props.send<RegressionSet>(
      `/agents/${agentId}/regression-set`,
      { method: 'PUT', body: typed.set },
      (stored) => `Stored ${stored.cases.length} case(s).`,
    );
    if (result.ok) props.onStored();
  };
  const runCases = async () => {
    setRunning(true);
    setRun(await callBackend<RegressionRun>(props.fetcher, `/agents/${agentId}/regression-runs`, { method: 'POST' }));
    setRunning(false);
  };
  return (
    <Flex direction="column" gap="xs">
      <Text format={{ fontWeight: 'demibold' }}>{`Regression set (${props.initial.cases.length} case(s))`}</Text>
      <TextArea
        name="regression-set"
        label="Regression cases (JSON)"
        rows={12}
        value={text}
        readOnly={!editable}
        error={editable && !typed.ok}
        validationMessage={editable && !typed.ok ? typed.message : ''}
        onChange={setText}
      />
      <ButtonRow>
        {editable ? (
          <Button testId="save-regression-set" size="xs" disabled={!typed.ok} onClick={() => void store()}>
            Save cases
          </Button>
        ) : null}
        <Button testId="run-regression-set" size="xs" disabled={running} onClick={() => void runCases()}>
          Run
        </Button>
      </ButtonRow>
      {run?.ok === false ? (
        <Alert title="Not run" variant="danger">
          {run.message}
        </Alert>
      ) : null}
      {run?.ok ? (
        <Alert title={regressionRunText(run.data)} variant={run.data.passed ? 'success' : 'warning'}>
          {run.data.failures.map((failure) => (
            <Text key={failure}>{failure}</Text>
          ))}
        </Alert>
      ) : null}
    </Flex>
  );
}
