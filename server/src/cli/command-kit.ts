import fs from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import type { z } from 'zod';
import { AppError, assertSafeJson, assertUniqueKeys } from '../errors.ts';
import type { Runtime, RuntimeOptions } from '../runtime.ts';
import type { Actor, ServiceDeps } from '../services/common/index.ts';
import { requireOption, type CommandContext } from './parse.ts';
import { parseJson } from '../../../shared/json-text.ts';
import { readableMessage } from '../../../shared/zod-issues.ts';

// Each command imports what it runs when it runs: loading every service, the HubSpot client and
// the database drivers for any command made `migrate` alone carry them all.

export type CommandOutput = { kind: 'result'; value: unknown; human: string; exitCode?: number } | { kind: 'streamed' };

export const CLI_ACTOR: Actor = { type: 'admin', via: 'cli', name: os.userInfo().username };

/** Opens the database (taking the PGlite data folder, or failing plainly if the server holds it) for one command. */
export async function withRuntime<T>(
  context: CommandContext,
  work: (deps: ServiceDeps, runtime: Runtime) => Promise<T>,
  options?: RuntimeOptions,
): Promise<T> {
  const runtime = await context.openRuntime(context.config, 'the agent-governance CLI', options);
  try {
    return await work(runtime.deps, runtime);
  } finally {
    await runtime.close();
  }
}

/**
 * For a command that makes an object of every row it streams (rollback, export): V8 collects
 * garbage sooner instead of growing the heap. A 100,000-item rollback peaks at ~160 MB instead of
 * ~250 MB, an export of 1,000,000 events at 145 MB instead of 270 MB, for two to four times the
 * CPU time; their pace is the CRM's rate limit or the disk. Not for every command: it tripled
 * audit verify's CPU time. Set before the command's work, which V8 honours from its next collection.
 */
export function collectGarbageSooner(): void {
  v8.setFlagsFromString('--optimize-for-size');
}

/** The --workspace a command acts on; a removed one is refused unless the command only reads its audit log. */
export async function workspaceOf(
  deps: ServiceDeps,
  context: CommandContext,
  options: { removedToo?: boolean } = {},
): Promise<string> {
  const { requireActiveWorkspace, requireWorkspace } = await import('../services/governance/index.ts');
  const id = requireOption(context, 'workspace');
  return (await (options.removedToo ? requireWorkspace(deps, id) : requireActiveWorkspace(deps, id))).id;
}

export function parseWith<T extends z.ZodType>(schema: T, value: unknown, option: string): z.infer<T> {
  const parsed = schema.safeParse(value, { error: readableMessage });
  if (!parsed.success)
    throw new AppError('VALIDATION_FAILED', `--${option}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

export function readTextFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (cause) {
    throw new AppError('VALIDATION_FAILED', `Cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
}

export function readJsonFile(file: string): unknown {
  const text = readTextFile(file);
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (cause) {
    throw new AppError('MALFORMED_JSON', `${file} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  assertUniqueKeys(text, file);
  assertSafeJson(value, file);
  return value;
}
