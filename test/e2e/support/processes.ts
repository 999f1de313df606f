import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface NodeProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout or stderr line that satisfies `match`, already seen or still to come. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then waits for the exit (the server flushes the sandbox file and frees PGlite on the way out). */
  stop(): Promise<void>;
}

/** Runs one of our entry points as its own process, as `npm start` or `npm run sandbox` would. */
export function startNodeProcess(
  script: string,
  env: Record<string, string | undefined>,
  args: string[] = [],
): NodeProcess {
  const fullEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...env })) if (value !== undefined) fullEnv[key] = value;
  const child = spawn(process.execPath, [path.resolve(script), ...args], {
    env: fullEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (const watcher of watchers) watcher();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
    for (const watcher of watchers) watcher();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    // A server's first start migrates a new PGlite folder: 6 s on a quiet machine, over 20 s on a loaded one.
    waitForLine(match, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = `${out}\n${err}`.split('\n').find(match);
          if (line === undefined) return;
          cleanup();
          resolve(line);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`No matching line within ${timeoutMs} ms.\nstdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`The process exited first (code ${child.exitCode}).\nstdout:\n${out}\nstderr:\n${err}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          watchers.delete(check);
          child.off('exit', onExit);
        };
        watchers.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The `url` of the first structured log line with this message (`listening`, `sandbox listening`). */
export async function urlFromLog(process: NodeProcess, message: string, timeoutMs?: number): Promise<string> {
  const line = await process.waitForLine((candidate) => candidate.includes(`"message":"${message}"`), timeoutMs);
  return (JSON.parse(line) as { url: string }).url;
}

/** The environment of a fresh PGlite server: no Postgres, nothing inherited that would switch demo mode. */
export function serverEnv(
  dataDir: string,
  extra: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    DATA_DIR: dataDir,
    PORT: '0',
    SANDBOX_PORT: '0',
    DATABASE_URL: undefined,
    HUBSPOT_API_BASE_URL: undefined,
    DEMO: undefined,
    DEMO_BATCH: undefined,
    SANDBOX_WEBHOOK_URL: undefined,
    SANDBOX_WEBHOOK_SECRET: undefined,
    ...extra,
  };
}

export async function http(
  method: string,
  url: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}
