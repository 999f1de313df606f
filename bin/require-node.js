// Plain JavaScript on purpose: it must run on the old Node it refuses, before any TypeScript is loaded,
// so a user on an end-of-life Node reads one line instead of an ERR_UNKNOWN_FILE_EXTENSION stack trace.
// Every entry point runs it first: the npm scripts as `pre*` scripts, the CLI by importing it.
import { readFileSync } from 'node:fs';

const { engines } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const MINIMUM = engines.node.replace(/^>=\s*/, '');

/** The sentence to print when `version` (e.g. "20.20.2") is older than `minimum` (e.g. "22.18"), else undefined. */
export function nodeVersionProblem(version, minimum = MINIMUM) {
  const have = version.split('.').map(Number);
  const need = minimum.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    if ((have[i] ?? 0) > need[i]) return undefined;
    if ((have[i] ?? 0) < need[i]) {
      return `Agent Governance needs Node.js ${minimum} or newer (Node 24 LTS recommended); this is Node ${version}. Install Node 24 (\`nvm install\` reads .nvmrc), then run the command again.`;
    }
  }
  return undefined;
}

const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
