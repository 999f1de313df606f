import type { SingleBar } from 'cli-progress';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { AuditVerification } from '../../../shared/admin-api.ts';
import { AppError } from '../errors.ts';
import { loadCheckpointKey } from '../checkpoint-key.ts';
import type { Runtime } from '../runtime.ts';
import type { AuditExportFormat, AuditProgress, CheckpointsToVerify } from '../services/governance/index.ts';
import {
  collectGarbageSooner,
  parseWith,
  readTextFile,
  withRuntime,
  workspaceOf,
  type CommandOutput,
} from './command-kit.ts';
import { terminalBar } from './progress-bar.ts';
import { terminalJson, terminalText, writesToTerminal } from './terminal-text.ts';
import type { CommandContext, CommandSpec } from './parse.ts';
import { readableMessage } from '../../../shared/zod-issues.ts';

const workspaceOption = { workspace: { type: 'string' } } as const;

/**
 * Verify reads the log once, in order: PGlite's buffer pool only passes pages through, and every MB
 * of it is resident once touched. 8 MB instead of 16 took 8 MB off PGlite verify's peak of 1,000,000
 * events, for the same time (docs/operations.md, Audit at scale).
 */
const READS_THE_LOG_ONCE = { sharedBuffersMb: 8 } as const;

/** `audit verify` (with signed checkpoints, issue 17), `audit public-key` and `audit export`. */
export const AUDIT_COMMANDS: readonly CommandSpec<CommandOutput>[] = [
  {
    name: 'audit verify',
    summary: 'Checks the audit log’s hash chain, and signed checkpoints when given; exits 1 when broken.',
    usage: 'audit verify --workspace ID [--checkpoints FILE]... [--public-key BASE64]... [--json]',
    options: {
      ...workspaceOption,
      checkpoints: { type: 'string', multiple: true },
      'public-key': { type: 'string', multiple: true },
    },
    run: (context) =>
      withRuntime(
        context,
        async (deps, runtime) => {
          const { verifyAudit } = await import('../services/governance/index.ts');
          const given = await checkpointsToVerify(context, runtime);
          const bar = await terminalBar(context, 'Verifying |{bar}| {value}/{total} events · ETA {eta_formatted}');
          const result = await verifyAudit(
            deps,
            await workspaceOf(deps, context, { removedToo: true }),
            given,
            bar && progressOn(bar),
          ).finally(() => bar?.stop());
          return {
            kind: 'result',
            value: result,
            human: verificationSentence(result),
            ...(result.ok ? {} : { exitCode: 1 }),
          };
        },
        READS_THE_LOG_ONCE,
      ),
  },
  {
    name: 'audit public-key',
    summary: 'Prints the public key audit checkpoints are signed with.',
    usage: 'audit public-key [--json]',
    options: {},
    // The key is read as the server reads it, without opening the database: with PGlite a running
    // server holds the data folder, and the key is what an operator records while it runs.
    run: async (context) => {
      const loaded = loadCheckpointKey({
        checkpointKey: context.config.auditCheckpoints.key,
        dataDir: context.config.dataDir,
        usingPostgres: context.config.databaseUrl !== undefined,
      });
      if (!loaded.key) throw new AppError('CONFIG_INVALID', loaded.why);
      const { keyId, publicKey } = loaded.key;
      return {
        kind: 'result',
        value: { algorithm: 'Ed25519', keyId, publicKey },
        human: `Audit checkpoint key ${keyId} (Ed25519, base64): ${publicKey}`,
      };
    },
  },
  {
    name: 'audit export',
    summary: 'Exports audit events as NDJSON or CSV, to stdout or a file.',
    usage:
      'audit export --workspace ID [--format ndjson|csv] [--agent ID] [--batch ID] [--record ID] [--from ISO] [--to ISO] [--out FILE] [--json]',
    options: {
      ...workspaceOption,
      format: { type: 'string' },
      agent: { type: 'string' },
      batch: { type: 'string' },
      record: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      out: { type: 'string' },
    },
    run: (context) => {
      collectGarbageSooner();
      return withRuntime(context, async (deps) => {
        const [{ auditExportQuerySchema }, { exportAudit }] = await Promise.all([
          import('../../../shared/admin-api.ts'),
          import('../services/governance/index.ts'),
        ]);
        const { workspace: _w, out, json: _j, ...filters } = context.values;
        const query = auditExportQuerySchema.safeParse(filters, { error: readableMessage });
        if (!query.success)
          throw new AppError(
            'VALIDATION_FAILED',
            `audit export: ${query.error.issues.map((i) => `--${i.path.join('.')} ${i.message}`).join('; ')}`,
          );
        if (context.values.json && typeof out !== 'string')
          throw new AppError(
            'VALIDATION_FAILED',
            'audit export --json reports on a file: give --out FILE (without --json the export streams to stdout).',
          );
        if (typeof out === 'string') assertWritableFolder(out);
        const q = query.data;
        // A bar only beside a file: streamed to stdout, the export is the output.
        const bar =
          typeof out === 'string'
            ? await terminalBar(context, 'Exporting |{bar}| seq {value}/{total} · ETA {eta_formatted}')
            : undefined;
        const stream = exportAudit(
          deps,
          await workspaceOf(deps, context, { removedToo: true }),
          {
            agentId: q.agent,
            batchId: q.batch,
            recordId: q.record,
            from: q.from ? new Date(q.from) : undefined,
            to: q.to ? new Date(q.to) : undefined,
          },
          q.format,
          bar && progressOn(bar),
        );
        if (typeof out !== 'string') {
          const shown = writesToTerminal(context.stdout) ? forTheTerminal(stream, q.format) : stream;
          await pipeline(Readable.from(shown), context.stdout, { end: false });
          return { kind: 'streamed' };
        }
        let chunks = 0;
        try {
          await pipeline(Readable.from(counting(stream, () => (chunks += 1))), fs.createWriteStream(out)).finally(() =>
            bar?.stop(),
          );
        } catch (cause) {
          if (cause instanceof AppError || typeof (cause as { syscall?: unknown }).syscall !== 'string') throw cause;
          throw new AppError('VALIDATION_FAILED', `--out: cannot write ${out}: ${(cause as Error).message}`, { cause });
        }
        const events = q.format === 'csv' ? chunks - 1 : chunks; // the CSV header is a chunk of its own
        return {
          kind: 'result',
          value: { file: out, format: q.format, events },
          human: `${events} events written to ${out}.`,
        };
      });
    },
  },
];

/** Moves a bar to the seq reached, starting it at the first report (when the head's seq is known). */
function progressOn(bar: SingleBar): AuditProgress {
  let started = false;
  return (seq, headSeq) => {
    if (!started) bar.start(headSeq, 0);
    started = true;
    bar.update(seq);
  };
}

/** Refused before any event is read, never as INTERNAL: a missing folder is the operator’s to create (issue 18). */
function assertWritableFolder(file: string): void {
  const folder = path.dirname(path.resolve(file));
  const found = fs.statSync(folder, { throwIfNoEntry: false });
  if (!found?.isDirectory()) {
    throw new AppError(
      'VALIDATION_FAILED',
      `--out: the folder ${folder} ${found ? 'is not a folder' : 'does not exist'}; create it first, or give a file in an existing folder.`,
      { details: { folder } },
    );
  }
}

/** With --checkpoints: every file's lines, checked against this server's key and any --public-key. */
async function checkpointsToVerify(
  context: CommandContext,
  runtime: Runtime,
): Promise<CheckpointsToVerify | undefined> {
  const files = (context.values.checkpoints as unknown as string[] | undefined) ?? [];
  if (files.length === 0) return undefined;
  const [{ checkpointPublicKeySchema }, { parseCheckpointLines }] = await Promise.all([
    import('../../../shared/admin-api.ts'),
    import('../services/governance/index.ts'),
  ]);
  const given = ((context.values['public-key'] as unknown as string[] | undefined) ?? []).map((key) =>
    parseWith(checkpointPublicKeySchema, key, 'public-key'),
  );
  const trustedPublicKeys = [...(runtime.checkpointKey.key ? [runtime.checkpointKey.key.publicKey] : []), ...given];
  if (trustedPublicKeys.length === 0)
    throw new AppError(
      'VALIDATION_FAILED',
      'There is no checkpoint key to check signatures against: give --public-key (audit public-key prints it where the key is configured).',
    );
  return { checkpoints: files.flatMap((file) => parseCheckpointLines(readTextFile(file), file)), trustedPublicKeys };
}

function verificationSentence(result: AuditVerification): string {
  const lines = [
    result.ok || !result.firstBadEvent
      ? `Audit chain intact: ${result.events} events verified.`
      : `Audit chain BROKEN at event ${result.firstBadEvent.seq}: ${result.firstBadEvent.message}`,
  ];
  const report = result.checkpoints;
  if (report?.firstBadCheckpoint)
    lines.push(
      `Checkpoints CONTRADICTED at checkpoint ${report.firstBadCheckpoint.seq}: ${report.firstBadCheckpoint.message}`,
    );
  else if (report)
    lines.push(
      `Checkpoints hold: ${report.checked} checked${report.latestSeq === null ? '' : `, the newest at event ${report.latestSeq}; events after it are only as safe as the database`}.`,
    );
  return lines.join('\n');
}

/**
 * An export read at a terminal, whose escape sequences must not reach it: an agent's value holding
 * U+009B (a one-character CSI) or U+202E would be obeyed, not shown. NDJSON escapes them as JSON
 * does, so it parses to the same values; CSV shows them as markers (⟨U+009B⟩). A file or a pipe
 * gets the exact bytes.
 */
async function* forTheTerminal(chunks: AsyncIterable<string>, format: AuditExportFormat): AsyncGenerator<string> {
  for await (const chunk of chunks) yield format === 'ndjson' ? terminalJson(chunk) : terminalText(chunk);
}

async function* counting(chunks: AsyncIterable<string>, onChunk: () => void): AsyncGenerator<string> {
  for await (const chunk of chunks) {
    onChunk();
    yield chunk;
  }
}
