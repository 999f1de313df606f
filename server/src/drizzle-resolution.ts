import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

// Node 24's ESM resolver parses drizzle-orm's 179 KB package.json `exports` again for every module
// it resolves in that package and for every import of it: about 1.5 s of CPU at every process start
// (server, CLI, each test file) and ~1.2 MB of garbage each time, promoted before it dies. So:
// - drizzle-orm's own modules import each other by relative path with explicit `.js` extensions
//   inside a `"type": "module"` package, so those imports are resolved here directly;
// - our modules import it by name from ~60 files, all under one project whose node_modules holds
//   it, so each name and condition set is resolved by Node once and then answered from memory
//   (`workspace list` peaked 11 MB lower and took 12% less wall time).
// Every other import takes Node's own path.
const packageJson = new URL('package.json', import.meta.resolve('drizzle-orm').replace(/\/index\.js$/, '/'));
const packageRoot = new URL('.', packageJson).href;
const projectRoot = new URL('../../', import.meta.url).href;
const isModulePackage = (readFileSync(packageJson, 'utf8').match(/"type"\s*:\s*"(\w+)"/)?.[1] ?? '') === 'module';

type Resolved = ReturnType<Parameters<typeof registerHooks>[0]['resolve'] & {}>;
const resolvedByName = new Map<string, Resolved>();

const isDrizzleName = (specifier: string) => specifier === 'drizzle-orm' || specifier.startsWith('drizzle-orm/');
const isOurModule = (url: string | undefined) => !!url?.startsWith(projectRoot) && !url.includes('/node_modules/');

if (isModulePackage) {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (
        context.parentURL?.startsWith(packageRoot) &&
        (specifier.startsWith('./') || specifier.startsWith('../')) &&
        specifier.endsWith('.js')
      ) {
        return { url: new URL(specifier, context.parentURL).href, format: 'module', shortCircuit: true };
      }
      if (isDrizzleName(specifier) && isOurModule(context.parentURL)) {
        const key = `${specifier} ${context.conditions.join(',')}`;
        let resolved = resolvedByName.get(key);
        if (!resolved) {
          resolved = nextResolve(specifier, context);
          resolvedByName.set(key, resolved);
        }
        return { ...resolved, shortCircuit: true };
      }
      return nextResolve(specifier, context);
    },
  });
}
