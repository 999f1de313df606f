import { describe, expect, it } from 'vitest';
import { loadCheckpointKey } from '../../server/src/checkpoint-key.ts';
import { httpUrlOf, loadConfig } from '../../server/src/config.ts';
import { createSecretBox, hashToken, loadSecretBox } from '../../server/src/secrets.ts';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';

describe('configuration', () => {
  it('defaults to PGlite in ./.data on port 3000 against HubSpot’s API', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      port: 3000,
      hubspotApiBaseUrl: 'https://api.hubapi.com',
      hubspotCallsPer10s: 100,
    });
    expect(config.dataDir).toBe(path.resolve('.data'));
  });

  it('treats an empty variable as unset, as a person writing FOO= means', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).databaseUrl).toBeUndefined();
  });

  it('allows the demo, its batch and the sandbox on port 3001 by default, and says when HubSpot’s URL was set', () => {
    expect(loadConfig({})).toMatchObject({
      demo: 'auto',
      demoBatch: true,
      sandboxPort: 3001,
      sandboxWebhook: undefined,
      hubspotApiBaseUrlConfigured: false,
    });
    expect(loadConfig({ DEMO: 'off', DEMO_BATCH: 'off', HUBSPOT_API_BASE_URL: 'http://127.0.0.1:3001' })).toMatchObject(
      { demo: 'off', demoBatch: false, hubspotApiBaseUrlConfigured: true },
    );
  });

  it('takes the sandbox’s webhook target and signing secret together or not at all', () => {
    expect(
      loadConfig({ SANDBOX_WEBHOOK_URL: 'http://127.0.0.1:3000/webhooks/hubspot', SANDBOX_WEBHOOK_SECRET: 's' })
        .sandboxWebhook,
    ).toEqual({ url: 'http://127.0.0.1:3000/webhooks/hubspot', secret: 's' });
    expect(() => loadConfig({ SANDBOX_WEBHOOK_URL: 'http://127.0.0.1:3000/webhooks/hubspot' })).toThrow(
      /SANDBOX_WEBHOOK_SECRET/,
    );
  });

  it('runs the webhook worker by default and takes the app’s client secret and public URL for webhook signatures', () => {
    expect(loadConfig({})).toMatchObject({
      webhookWorker: true,
      approvalJobs: true,
      hubspotClientSecret: undefined,
      publicUrl: undefined,
    });
    expect(loadConfig({ APPROVAL_JOBS: 'off' })).toMatchObject({ approvalJobs: false });
    expect(
      loadConfig({ WEBHOOK_WORKER: 'off', HUBSPOT_CLIENT_SECRET: 'cs', PUBLIC_URL: 'https://ag.example.com' }),
    ).toMatchObject({ webhookWorker: false, hubspotClientSecret: 'cs', publicUrl: 'https://ag.example.com' });
    expect(() => loadConfig({ PUBLIC_URL: 'ag.example.com' })).toThrow(/PUBLIC_URL/);
  });

  it('publishes audit checkpoints every 1,000 events or 60 s into the data folder unless told otherwise', () => {
    expect(loadConfig({}).auditCheckpoints).toEqual({
      key: undefined,
      file: path.resolve('.data', 'audit-checkpoints.ndjson'),
      everyEvents: 1_000,
      everyMs: 60_000,
    });
    expect(
      loadConfig({
        AUDIT_CHECKPOINT_EVERY_EVENTS: '50',
        AUDIT_CHECKPOINT_EVERY_SECONDS: '2',
        AUDIT_CHECKPOINT_FILE: '/var/log/ag/checkpoints.ndjson',
      }).auditCheckpoints,
    ).toMatchObject({
      file: '/var/log/ag/checkpoints.ndjson',
      everyEvents: 50,
      everyMs: 2_000,
    });
    expect(() => loadConfig({ AUDIT_CHECKPOINT_EVERY_EVENTS: '0' })).toThrow(/AUDIT_CHECKPOINT_EVERY_EVENTS/);
  });

  it('leases a change set for 30 s and looks for interrupted ones every 5 s unless told otherwise', () => {
    expect(loadConfig({})).toMatchObject({ changeSetLeaseMs: 30_000, changeSetRecoveryPollMs: 5_000 });
    expect(loadConfig({ CHANGE_SET_LEASE_MS: '1500', CHANGE_SET_RECOVERY_POLL_MS: '200' })).toMatchObject({
      changeSetLeaseMs: 1_500,
      changeSetRecoveryPollMs: 200,
    });
    expect(() => loadConfig({ CHANGE_SET_LEASE_MS: '0' })).toThrow(/CHANGE_SET_LEASE_MS/);
  });

  it('lets a rollback lease lapse after 15 s and an approval write claimed by a dead server wait 5 minutes unless told otherwise', () => {
    expect(loadConfig({})).toMatchObject({ rollbackLeaseMs: 15_000, approvalApplyClaimMs: 300_000 });
    expect(loadConfig({ ROLLBACK_LEASE_MS: '1000', APPROVAL_APPLY_CLAIM_MS: '2000' })).toMatchObject({
      rollbackLeaseMs: 1_000,
      approvalApplyClaimMs: 2_000,
    });
  });

  it('refuses a bad value with a sentence naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
  });

  it('says what each bad value should have been, and never repeats it (some hold secrets)', () => {
    const refusal = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        return (error as Error).message.replace('The configuration is invalid: ', '');
      }
      return 'accepted';
    };
    expect(refusal({ PORT: 'eighty' })).toBe('PORT must be a number');
    expect(refusal({ PORT: '3.5' })).toBe('PORT must be a whole number');
    expect(refusal({ PORT: '70000' })).toBe('PORT must be at most 65535');
    expect(refusal({ SIEM_LEASE_MS: '100' })).toBe('SIEM_LEASE_MS must be at least 300');
    expect(refusal({ HUBSPOT_CALLS_PER_10S: '0' })).toBe('HUBSPOT_CALLS_PER_10S must be more than 0');
    expect(refusal({ DEMO: 'no' })).toBe('DEMO must be one of auto, off');
    expect(refusal({ DATABASE_URL: 'secret-password@db' })).toBe(
      'DATABASE_URL must be a postgres:// URL, such as postgres://user:password@host:5432/database',
    );
    // One line for a variable, with its own bound, though the value also broke zod's safe-integer one.
    expect(refusal({ PORT: '99999999999999999999' })).toBe('PORT must be at most 65535');
  });

  it('refuses a URL without its scheme, which still parses as a URL of another scheme', () => {
    const refusal = (env: Record<string, string>) => () => loadConfig(env);
    // `localhost:5432/db` is a URL of scheme `localhost:`: it reached pg, which said only that no user was named.
    expect(refusal({ DATABASE_URL: 'localhost:5432/agent_governance' })).toThrow(
      /^The configuration is invalid: DATABASE_URL must be a postgres:\/\/ URL/,
    );
    for (const name of ['PUBLIC_URL', 'HUBSPOT_API_BASE_URL'])
      for (const value of ['localhost:3000', 'ftp://files.example.com', 'mailto:ops@example.com'])
        expect(refusal({ [name]: value }), `${name}=${value}`).toThrow(
          `${name} must be an http:// or https:// URL, with its host`,
        );
    expect(loadConfig({ DATABASE_URL: 'postgresql://ag@db.internal:5432/ag' }).databaseUrl).toBe(
      'postgresql://ag@db.internal:5432/ag',
    );
  });

  it('makes the server’s own URL from HOST and PORT, an IPv6 HOST in brackets', () => {
    // HOST=::1 printed http://::1:3000, which no client parses: the demo's batch failed and every printed link was broken.
    expect(httpUrlOf('::1', 3000)).toBe('http://[::1]:3000');
    expect(new URL(httpUrlOf('::', 3000)).host).toBe('[::]:3000');
    expect(httpUrlOf('127.0.0.1', 3000)).toBe('http://127.0.0.1:3000');
    expect(httpUrlOf('ag.internal', 80)).toBe('http://ag.internal:80');
  });

  it('takes the Pub/Sub endpoint as host:port, which is all the gRPC client reads', () => {
    for (const endpoint of ['127.0.0.1:7443', 'pubsub.example.com:443', '[::1]:7443'])
      expect(loadConfig({ SALESFORCE_PUBSUB_ENDPOINT: endpoint }).changeStreams.pubSubEndpoint).toBe(endpoint);
    for (const endpoint of ['https://api.pubsub.salesforce.com:7443', 'api.pubsub.salesforce.com', 'host:port'])
      expect(() => loadConfig({ SALESFORCE_PUBSUB_ENDPOINT: endpoint }), endpoint).toThrow(
        'SALESFORCE_PUBSUB_ENDPOINT must be host:port, such as api.pubsub.salesforce.com:7443 (no scheme)',
      );
  });

  it('refuses a wait longer than Node’s timers hold, which they would cut to 1 ms', () => {
    for (const name of ['CHANGE_SET_RECOVERY_POLL_MS', 'SIEM_POLL_MS', 'ALERT_POLL_MS', 'REQUEST_TIMEOUT_MS'])
      expect(() => loadConfig({ [name]: '1e15' })).toThrow(`${name} must be at most 2147483647`);
    expect(() => loadConfig({ AUDIT_CHECKPOINT_EVERY_SECONDS: '3000000' })).toThrow(
      'AUDIT_CHECKPOINT_EVERY_SECONDS must be at most 2147483',
    );
    expect(loadConfig({ APPROVAL_APPLY_CLAIM_MS: '2147483647' }).approvalApplyClaimMs).toBe(2_147_483_647);
    expect(() => loadConfig({ MAX_BODY_BYTES: '1e15' })).toThrow(
      /^The configuration is invalid: MAX_BODY_BYTES must be at most \d+$/,
    );
  });

  it('takes a blank variable as unset, as an empty one: a blank PORT was port 0, a random one', () => {
    expect(loadConfig({ PORT: ' ', SANDBOX_PORT: '\t' })).toMatchObject({ port: 3000, sandboxPort: 3001 });
  });
});

describe('secrets', () => {
  it('seals and opens a credential, and a different key cannot open it', () => {
    const sealed = createSecretBox(randomBytes(32)).seal('pat-na1-secret');
    expect(sealed).not.toContain('pat-na1-secret');
    expect(() => createSecretBox(randomBytes(32)).open(sealed)).toThrow(/SECRETS_KEY/);
  });

  it('requires SECRETS_KEY with Postgres, and makes and keeps a key file with PGlite', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-secrets-'));
    expect(() => loadSecretBox({ secretsKey: undefined, dataDir, usingPostgres: true })).toThrow(
      /SECRETS_KEY is required/,
    );
    const sealed = loadSecretBox({ secretsKey: undefined, dataDir, usingPostgres: false }).seal('x');
    expect(loadSecretBox({ secretsKey: undefined, dataDir, usingPostgres: false }).open(sealed)).toBe('x');
    fs.rmSync(dataDir, { recursive: true });
  });

  it('leaves audit checkpoints off with Postgres and no key, saying why; makes and keeps a key file with PGlite', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ag-checkpoint-key-'));
    expect(loadCheckpointKey({ checkpointKey: undefined, dataDir, usingPostgres: true })).toEqual({
      key: undefined,
      why: expect.stringMatching(/AUDIT_CHECKPOINT_KEY is not set/),
    });
    const made = loadCheckpointKey({ checkpointKey: undefined, dataDir, usingPostgres: false }).key!;
    expect(loadCheckpointKey({ checkpointKey: undefined, dataDir, usingPostgres: false }).key!.publicKey).toBe(
      made.publicKey,
    );
    const given = randomBytes(32).toString('base64');
    expect(loadCheckpointKey({ checkpointKey: given, dataDir, usingPostgres: true }).key!.keyId).toMatch(
      /^[0-9a-f]{16}$/,
    );
    expect(() => loadCheckpointKey({ checkpointKey: 'c2hvcnQ=', dataDir, usingPostgres: true })).toThrow(
      /AUDIT_CHECKPOINT_KEY must be/,
    );
    fs.rmSync(dataDir, { recursive: true });
  });

  it("sends workspaces' deliveries to public addresses only by default, and to the networks OUTBOUND_ALLOWED_NETWORKS lists", () => {
    expect(loadConfig({}).outboundAllowedNetworks).toEqual([]);
    expect(
      loadConfig({ OUTBOUND_ALLOWED_NETWORKS: '10.1.2.3/32, fd00::/8,127.0.0.1' }).outboundAllowedNetworks,
    ).toEqual([
      { address: '10.1.2.3', prefix: 32, family: 'ipv4' },
      { address: 'fd00::', prefix: 8, family: 'ipv6' },
      { address: '127.0.0.1', prefix: 32, family: 'ipv4' },
    ]);
    const refused = () => loadConfig({ OUTBOUND_ALLOWED_NETWORKS: '10.0.0.0/8,10.0.0.0/33,splunk.local' });
    expect(refused).toThrow(
      'The configuration is invalid: OUTBOUND_ALLOWED_NETWORKS must be a comma-separated list of networks such as 10.0.0.0/8, fd00::/8 or 192.0.2.7/32: "10.0.0.0/33", "splunk.local" are not',
    );
  });

  it('sends HTTP deliveries through the egress proxy OUTBOUND_PROXY names, an http:// URL, and never repeats a refused one', () => {
    expect(loadConfig({}).outboundProxy).toBeUndefined();
    // HTTPS_PROXY is another tool's setting: only OUTBOUND_PROXY sends workspaces' deliveries through a proxy.
    expect(loadConfig({ HTTPS_PROXY: 'http://proxy.internal:3128' }).outboundProxy).toBeUndefined();
    const proxy = loadConfig({ OUTBOUND_PROXY: 'http://governance:s3cret@proxy.internal:3128' }).outboundProxy;
    expect([proxy?.hostname, proxy?.port, proxy?.username, proxy?.password]).toEqual([
      'proxy.internal',
      '3128',
      'governance',
      's3cret',
    ]);
    for (const refused of [
      'https://governance:s3cret@proxy.internal:3128',
      'proxy.internal:3128',
      'socks5://proxy:1080',
      'http://governance:s3cret%zz@proxy.internal:3128',
    ])
      expect(() => loadConfig({ OUTBOUND_PROXY: refused })).toThrow(
        /^The configuration is invalid: OUTBOUND_PROXY must be an http:\/\/ URL of the egress proxy, such as http:\/\/proxy.internal:3128 or http:\/\/user:password@proxy.internal:3128 \(a user or password percent-encoded\)$/,
      );
  });

  it('stores tokens as a one-way hash', () => {
    expect(hashToken('agt_abc')).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken('agt_abc')).not.toBe(hashToken('agt_abd'));
  });
});
