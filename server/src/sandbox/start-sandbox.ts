import path from 'node:path';
import { sandboxControlRoutes } from './control-routes.ts';
import { createFakeHubSpotHttpServer } from './hubspot/http-server.ts';
import { persistStateToFile, type StateFile } from './hubspot/persistence.ts';
import { createHubSpotState, type HubSpotState } from './hubspot/state.ts';
import { startWebhookSender, type WebhookSender } from './hubspot/webhooks.ts';
import { seedSandbox } from './seed.ts';

/** The HubSpot account id the sandbox plays; the demo workspace is connected to it. */
export const SANDBOX_PORTAL_ID = '4242001';

export interface SandboxOptions {
  /** The state lives in DATA_DIR/sandbox/hubspot.json; undefined keeps it in memory only. */
  dataDir: string | undefined;
  port: number;
  webhook?: { url: string; secret: string; retryDelayMs?: (failedAttempt: number) => number } | undefined;
}

export interface RunningSandbox {
  url: string;
  state: HubSpotState;
  portalId: string;
  accessToken: string;
  /** True when this start seeded a fresh state; false when it loaded the saved one. */
  seeded: boolean;
  /** Starts sending signed webhooks once the target is known (the demo's server listens after the sandbox). */
  sendWebhooksTo(target: { url: string; secret: string }): void;
  close(): Promise<void>;
}

/**
 * Starts the local HubSpot sandbox: the fake HubSpot the tests use, over HTTP, with its state
 * kept on disk, seeded once, its control routes, and signed webhooks when a target is set.
 */
export async function startSandbox(options: SandboxOptions): Promise<RunningSandbox> {
  // The portal the sandbox announces is the one its account details and custom objects name (issue 18).
  const state = createHubSpotState({ portalId: SANDBOX_PORTAL_ID });
  let file: StateFile | undefined;
  let seeded = false;
  if (options.dataDir !== undefined) {
    file = persistStateToFile(state, { file: sandboxStateFile(options.dataDir) });
    if (!file.loaded) {
      seedSandbox(state);
      file.flush();
      seeded = true;
    }
  } else {
    seedSandbox(state);
    seeded = true;
  }
  // Attached after seeding, so a fresh sandbox does not announce its import as hundreds of webhooks.
  let sender: WebhookSender | undefined;
  const sendWebhooksTo = (target: NonNullable<SandboxOptions['webhook']>) => {
    sender ??= startWebhookSender({
      state,
      targetUrl: target.url,
      clientSecret: target.secret,
      portalId: Number(SANDBOX_PORTAL_ID),
      ...(target.retryDelayMs ? { retryDelayMs: target.retryDelayMs } : {}),
    });
  };
  if (options.webhook !== undefined) sendWebhooksTo(options.webhook);
  const server = createFakeHubSpotHttpServer(state, {
    extraRoutes: sandboxControlRoutes({ state, portalId: SANDBOX_PORTAL_ID }),
  });
  const url = await server.listen(options.port);
  return {
    url,
    state,
    portalId: SANDBOX_PORTAL_ID,
    accessToken: state.accessToken,
    seeded,
    sendWebhooksTo,
    async close() {
      sender?.close();
      await server.close();
      file?.close();
    },
  };
}

export function sandboxStateFile(dataDir: string): string {
  return path.join(dataDir, 'sandbox', 'hubspot.json');
}
