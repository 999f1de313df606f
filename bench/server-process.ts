import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');

/** The CLI as a user runs it; returns its one JSON object. */
export async function cli(env: Record<string, string>, ...args: string[]): Promise<Record<string, unknown>> {
  const command = scriptCommand('cli', env);
  const { stdout } = await run(process.execPath, [...command.args, ...args, '--json'], { env: command.env });
  return JSON.parse(stdout) as Record<string, unknown>;
}

export interface ServerProcess {
  url: string;
  /** Peak resident memory of the server process so far (Linux VmHWM), in MB. */
  peakMemoryMb(): number;
  /** CPU time (user + system) the server process has used so far, in seconds; NaN once it has gone. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * An npm script's node arguments (`start`, `cli`) and `env` with the script's own leading
 * `NAME=value` settings added, read from package.json so benchmarks run our processes exactly as
 * users do (steps before it, such as building the console, are not part of the measured process).
 */
export function scriptCommand(
  script: 'start' | 'cli',
  env: Record<string, string>,
): { env: Record<string, string>; args: string[] } {
  const scripts = (
    JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;
  // The process itself is the script's last command: `start` first builds the console when stale.
  const words = (scripts[script] ?? '').split('&&').at(-1)!.trim().split(/\s+/);
  // `exec` (and `env` before the settings) make the shell npm runs become the process, not its parent.
  if (words[0] === 'exec') words.shift();
  if (words[0] === 'env') words.shift();
  const withSettings = { ...env };
  while (/^[A-Z_]+=/.test(words[0] ?? '')) {
    const setting = words.shift()!;
    const equals = setting.indexOf('=');
    withSettings[setting.slice(0, equals)] = setting.slice(equals + 1);
  }
  const [command, ...args] = words;
  if (command !== 'node') throw new Error(`npm run ${script} is not a node command: ${scripts[script]}`);
  return { env: withSettings, args: args.map((arg) => (/\.[jt]s$/.test(arg) ? path.join(ROOT, arg) : arg)) };
}

/** Starts the server as `npm start` does, in its own process, so its memory is measured alone. */
export async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const command = scriptCommand('start', { ...env, PORT: '0' });
  const child: ChildProcess = spawn(process.execPath, command.args, {
    env: command.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"message":"listening","url":"([^"]+)"/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  return {
    url,
    peakMemoryMb: () => Math.round(peakMemoryKb(child.pid!) / 1024),
    cpuSeconds: () => cpuSeconds(child.pid!),
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** A live process's peak resident memory so far (Linux VmHWM), in kB; NaN once it has gone. */
export function peakMemoryKb(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

/**
 * A live process's CPU time so far (utime + stime of /proc/PID/stat, in clock ticks of 1/100 s on
 * Linux), in seconds; NaN once it has gone. On a loaded machine, CPU time moves far less than wall time.
 */
export function cpuSeconds(pid: number): number {
  try {
    // The fields after the command's closing parenthesis: state is the 3rd field, utime the 14th, stime the 15th.
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * Runs the CLI to the end as a user runs it, timed, sampling its peak resident memory and its CPU
 * time (to within the last 20 ms) until it exits.
 */
export async function measuredCli(
  env: Record<string, string>,
  args: string[],
): Promise<{ output: Record<string, unknown>; seconds: number; cpuSeconds: number; peakMemoryMb: number }> {
  const started = performance.now();
  const command = scriptCommand('cli', env);
  const child = spawn(process.execPath, [...command.args, ...args], {
    env: command.env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  let peakKb = 0;
  let cpu = 0;
  // Once the process has gone (NaN), the last sample stands.
  const sampler = setInterval(() => {
    peakKb = Math.max(peakKb, peakMemoryKb(child.pid!) || 0);
    cpu = cpuSeconds(child.pid!) || cpu;
  }, 20);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`npm run cli -- ${args.join(' ')} exited with ${code}: ${stdout}`);
  return {
    output: JSON.parse(stdout) as Record<string, unknown>,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: cpu,
    peakMemoryMb: Math.round(peakKb / 1024),
  };
}

/** A workspace on the fake HubSpot (token not checked) with one enrichment agent, as a benchmark starts. */
export async function benchWorkspace(
  env: Record<string, string>,
  hubspotToken: string,
  agentName: string,
  portalId = '1',
): Promise<{ workspaceId: string; agentToken: string }> {
  const workspace = await cli(
    env,
    'workspace',
    'add',
    '--name',
    'Bench',
    '--hubspot-portal-id',
    portalId,
    '--hubspot-token',
    hubspotToken,
    '--no-verify',
  );
  const agent = await cli(
    env,
    'agents',
    'create',
    '--workspace',
    String(workspace.id),
    '--name',
    agentName,
    '--role',
    'enrichment',
  );
  return { workspaceId: String(workspace.id), agentToken: String(agent.token) };
}
