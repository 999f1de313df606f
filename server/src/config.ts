import path from 'node:path';
import { z } from 'zod';
import { AppError } from './errors.ts';

/** Everything the server and the CLI read from the environment, parsed once at start. */
const configSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HUBSPOT_API_BASE_URL: z.string().url().default('https://api.hubapi.com'),
  /** Calls per 10 s the adapter paces itself to; HubSpot's private-app floor is 100. */
  HUBSPOT_CALLS_PER_10S: z.coerce.number().int().positive().default(100),
  /** Largest request body accepted, in bytes. */
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(2 * 1024 * 1024),
  /** base64 of 32 bytes; encrypts CRM credentials at rest. Unset: a key file is created in DATA_DIR. */
  SECRETS_KEY: z.string().optional(),
});

export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
  host: string;
  port: number;
  hubspotApiBaseUrl: string;
  hubspotCallsPer10s: number;
  maxBodyBytes: number;
  secretsKey: string | undefined;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(emptyToUndefined(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new AppError('CONFIG_INVALID', `The configuration is invalid: ${lines.join('; ')}`);
  }
  const c = parsed.data;
  return {
    databaseUrl: c.DATABASE_URL,
    dataDir: path.resolve(c.DATA_DIR),
    host: c.HOST,
    port: c.PORT,
    hubspotApiBaseUrl: c.HUBSPOT_API_BASE_URL,
    hubspotCallsPer10s: c.HUBSPOT_CALLS_PER_10S,
    maxBodyBytes: c.MAX_BODY_BYTES,
    secretsKey: c.SECRETS_KEY,
  };
}

/** `FOO=` in a shell means "not set" to a person; treat it so. */
function emptyToUndefined(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === '' ? undefined : value]));
}
