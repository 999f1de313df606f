// Plain JavaScript on purpose: it must run on the old Node it refuses, before any TypeScript is loaded,
// so a user on an end-of-life Node reads one line instead of an ERR_UNKNOWN_FILE_EXTENSION stack trace.
// Every entry point runs it first: the npm scripts as `pre*` scripts, the CLI by importing it.
// It checks the installed dependencies too: a checkout started before `npm install` met an
// ERR_MODULE_NOT_FOUND stack trace.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const { engines, dependencies } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
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

/** The sentence to print when a dependency package.json names cannot be found, else undefined. */
export function missingDependencyProblem() {
  const missing = Object.keys(dependencies).filter((name) => {
    try {
      import.meta.resolve(name);
      return false;
    } catch (error) {
      // A package that exports no "." entry for `import` is installed all the same.
      return error?.code === 'ERR_MODULE_NOT_FOUND';
    }
  });
  if (missing.length === 0) return undefined;
  const checkout = fileURLToPath(new URL('..', import.meta.url));
  const some =
    missing.length > 3 ? `${missing.slice(0, 3).join(', ')} and ${missing.length - 3} more` : missing.join(', ');
  const what = missing.length === Object.keys(dependencies).length ? '' : ` (${some} not found)`;
  return `Agent Governance's dependencies are not installed${what}. Run \`npm install\` in ${checkout} first, then run the command again.`;
}

const problem = nodeVersionProblem(process.versions.node) ?? missingDependencyProblem();
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
