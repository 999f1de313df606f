import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import fs from 'node:fs';
import { createApp, type AppOptions } from '../../server/src/app.ts';
import { createHttpServer } from '../../server/src/http/unreadable-requests.ts';
import { silentLogger, type Logger } from '../../server/src/logger.ts';
import { hubspotResolver } from '../../server/src/runtime.ts';
import {
  createAgent,
  publishPolicy,
  createWorkspace,
  recordCrmConnectionRefused,
} from '../../server/src/services/governance/index.ts';
import { type Actor, type ServiceDeps, workBehindAnswers } from '../../server/src/services/common/index.ts';
import type { AgentRole } from '../../shared/crm-names.ts';
import { createTestDatabase } from './database.ts';
import { testDeps } from './deps.ts';
import { LOOPBACK_NETWORKS, outboundAllowing } from './outbound.ts';
import { startFakeHubSpot, startFakeHubSpotOverHttp, type FakeHubSpot } from './hubspot-msw.ts';
import type { HubSpotState } from '../../server/src/sandbox/hubspot/state.ts';

export const ADMIN: Actor = { type: 'admin', via: 'cli', name: 'tester' };
export const EXAMPLE_POLICY: unknown = JSON.parse(
  fs.readFileSync(new URL('../../examples/policy.json', import.meta.url), 'utf8'),
);

export interface Harness {
  database: Awaited<ReturnType<typeof createTestDatabase>>;
  hubspot: FakeHubSpot;
  deps: ServiceDeps;
  url: string;
  /** Resolves once the work requests started behind their answers (an approved value's write) has finished. */
  behindAnswersDone(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The real app on a real port over a real database, with only HubSpot faked (msw at the HTTP
 * boundary, answered by the same state model the sandbox uses). Retries wait 1 ms so fault tests run fast.
 */
export async function startHarness(
  options: {
    clock?: () => Date;
    webhooks?: AppOptions['webhooks'];
    logger?: Logger;
    consoleDir?: string;
    /** More HubSpot accounts beside the default one, told apart by their access tokens. */
    otherPortals?: readonly HubSpotState[];
    /** How the adapters wait between retries; tests that hold a wait open pass their own. */
    sleep?: (ms: number) => Promise<void>;
    /** Serve the fake HubSpot over loopback HTTP instead of msw, whose socket interception breaks gRPC. */
    hubspotOverHttp?: boolean;
    canvas?: AppOptions['canvas'];
    agentTraffic?: AppOptions['agentTraffic'];
    /** The port the services use, given the fake HubSpot's resolver: a test connecting another CRM too builds it here. */
    crmFor?: (hubspot: ServiceDeps['crmFor'], deps: ServiceDeps) => ServiceDeps['crmFor'];
    /** Audit HubSpot's 401s as the server does (`crm.connection_refused`, issue 20). */
    recordHubSpotRefusals?: boolean;
    /** REQUEST_TIMEOUT_MS: how long a request may take to arrive whole. */
    requestTimeoutMs?: number;
    /**
     * OUTBOUND_ALLOWED_NETWORKS: the suite's SIEM and alert receivers listen on loopback, so it is
     * allowed unless a test gives its own list (`[]`: a server's default, public addresses only).
     */
    outboundAllowedNetworks?: readonly string[];
  } = {},
): Promise<Harness> {
  const database = await createTestDatabase();
  const hubspot = options.hubspotOverHttp
    ? await startFakeHubSpotOverHttp()
    : startFakeHubSpot(options.otherPortals ? { otherPortals: options.otherPortals } : {});
  const base = testDeps(database.db, options.clock ? { clock: options.clock } : {});
  const behindAnswers = workBehindAnswers((error) => {
    throw error;
  });
  const hubspotFor = hubspotResolver({
    baseUrl: hubspot.baseUrl,
    callsPer10s: 10_000,
    open: (sealed) => base.secrets.open(sealed),
    adapter: { retry: { baseDelayMs: 1, maxDelayMs: 5 }, ...(options.sleep ? { sleep: options.sleep } : {}) },
    ...(options.recordHubSpotRefusals
      ? {
          onAuthRefused: (workspaceId: string, refusal: { credentialsEnc: string; reason: string }) =>
            recordCrmConnectionRefused(deps, workspaceId, { crm: 'hubspot', ...refusal, seenBy: 'crm-adapter' }),
        }
      : {}),
  });
  const outbound = outboundAllowing(options.outboundAllowedNetworks ?? LOOPBACK_NETWORKS);
  const withHubSpot: ServiceDeps = { ...base, behindAnswers, crmFor: hubspotFor, outbound };
  const deps: ServiceDeps = options.crmFor
    ? { ...withHubSpot, crmFor: options.crmFor(hubspotFor, withHubSpot) }
    : withHubSpot;
  const app = createApp({
    deps,
    database,
    logger: options.logger ?? silentLogger,
    maxBodyBytes: 2 * 1024 * 1024,
    publicUrl: 'http://127.0.0.1',
    ...(options.webhooks ? { webhooks: options.webhooks } : {}),
    ...(options.consoleDir ? { consoleDir: options.consoleDir } : {}),
    ...(options.canvas ? { canvas: options.canvas } : {}),
    ...(options.agentTraffic ? { agentTraffic: options.agentTraffic } : {}),
  });
  const server: Server = createHttpServer(app, { requestTimeoutMs: options.requestTimeoutMs ?? 120_000 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    database,
    hubspot,
    deps,
    url,
    behindAnswersDone: () => behindAnswers.idle(),
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await behindAnswers.idle();
      hubspot.close();
      await database.close();
    },
  };
}

let portalSeq = 1000;

/** A connected workspace with the example policy published and one agent per requested role. */
export async function seedWorkspace(
  harness: Harness,
  roles: AgentRole[] = ['enrichment'],
  hubspotToken: string = harness.hubspot.accessToken,
) {
  const workspace = await createWorkspace(
    harness.deps,
    { name: 'Acme', hubspotPortalId: String(portalSeq++), hubspotToken },
    ADMIN,
  );
  const { version } = await publishPolicy(harness.deps, workspace.id, EXAMPLE_POLICY, ADMIN);
  const agents = [];
  for (const [index, role] of roles.entries()) {
    const name = roles.indexOf(role) === index ? `${role}-agent` : `${role}-agent-${index + 1}`;
    agents.push(await createAgent(harness.deps, workspace.id, { name, role }, ADMIN));
  }
  return { workspaceId: workspace.id, adminToken: workspace.adminToken, policyVersion: version, agents };
}

export async function api(
  harness: Harness,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
) {
  const response = await fetch(`${harness.url}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined || options.raw !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}
