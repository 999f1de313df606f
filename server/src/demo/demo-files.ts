import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseJson } from '../../../shared/json-text.ts';

/**
 * What the demo keeps in DATA_DIR/demo: the workspace and agent ids, the admin and enrichment
 * agent tokens and the sandbox's webhook secret (0600: secrets, if only for a local sandbox), and the number of
 * the next scripted batch, so `npm run demo:agent` and later starts pick up where the last left off.
 */
export function demoFiles(dataDir: string) {
  const folder = path.join(dataDir, 'demo');
  const file = (name: string) => path.join(folder, name);
  const hubspotTokens = keptUntilShown(folder, file('tokens-not-shown.json'), notShownSchema);
  const salesforceTokens = keptUntilShown(folder, file('salesforce-tokens-not-shown.json'), salesforceNotShownSchema);
  return {
    folder,
    adminTokenFile: file('admin.token'),
    enrichmentTokenFile: file('enrichment-agent.token'),
    readAdminToken: () => readIfPresent(file('admin.token')),
    readEnrichmentToken: () => readIfPresent(file('enrichment-agent.token')),
    /**
     * Keeps the new workspace's tokens: the admin and enrichment ones for good, and all three, the
     * outreach one too, until a start has shown them (`tokensShown`). A first start that stopped
     * before it printed them (its port in use, a crash) left a workspace whose tokens no start showed.
     */
    writeSecrets(secrets: { adminToken: string; enrichmentToken: string; outreachToken: string }) {
      fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
      fs.writeFileSync(file('admin.token'), secrets.adminToken, { mode: 0o600 });
      fs.writeFileSync(file('enrichment-agent.token'), secrets.enrichmentToken, { mode: 0o600 });
      hubspotTokens.keep(secrets);
    },
    /** The tokens a start made but none has shown yet, else undefined. */
    readTokensNotShown: hubspotTokens.read,
    tokensShown: hubspotTokens.shown,
    /** The Salesforce workspace's tokens, kept only until a start has shown them (no file holds them after). */
    keepSalesforceTokensUntilShown: salesforceTokens.keep,
    readSalesforceTokensNotShown: salesforceTokens.read,
    salesforceTokensShown: salesforceTokens.shown,
    /** The secret the sandbox signs its webhooks with and the demo workspace verifies them by; made once. */
    webhookSecret(): string {
      const existing = readIfPresent(file('webhook.secret'));
      if (existing) return existing;
      const secret = randomBytes(24).toString('base64url');
      fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
      fs.writeFileSync(file('webhook.secret'), secret, { mode: 0o600 });
      return secret;
    },
    /** Returns the next batch number and counts it as taken. */
    takeBatchNumber(): number {
      fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
      const n = Number(readIfPresent(file('next-batch')) ?? '0');
      const current = Number.isInteger(n) && n >= 0 ? n : 0;
      fs.writeFileSync(file('next-batch'), String(current + 1));
      return current;
    },
    /** Gives back a number taken for a batch that never left, unless another has been taken since. */
    giveBackBatchNumber(taken: number): void {
      if (readIfPresent(file('next-batch')) === String(taken + 1)) fs.writeFileSync(file('next-batch'), String(taken));
    },
  };
}

const salesforceNotShownSchema = z.object({ adminToken: z.string(), enrichmentToken: z.string() });
const notShownSchema = salesforceNotShownSchema.extend({ outreachToken: z.string() });

/** Tokens kept in one file (0600) until a start has shown them, then removed. */
function keptUntilShown<T>(folder: string, tokensFile: string, schema: z.ZodType<T>) {
  return {
    keep(tokens: T): void {
      fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
      fs.writeFileSync(tokensFile, JSON.stringify(tokens), { mode: 0o600 });
    },
    read(): T | undefined {
      const text = readIfPresent(tokensFile);
      const parsed = schema.safeParse(text === undefined ? undefined : parseJsonOrUndefined(text));
      return parsed.success ? parsed.data : undefined;
    },
    shown(): void {
      fs.rmSync(tokensFile, { force: true });
    },
  };
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return parseJson(text);
  } catch {
    return undefined;
  }
}

function readIfPresent(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A path as a person would type it from where they started the server. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}
