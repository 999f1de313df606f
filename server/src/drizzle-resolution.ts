import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

// Node 24's ESM resolver reads drizzle-orm's 179 KB package.json `exports` again for each of the
// ~100 modules a store import loads: about 1.5 s of CPU at every process start (server, CLI, each
// test file), more than everything else it loads together. drizzle-orm's own modules import each
// other by relative path with explicit `.js` extensions inside a `"type": "module"` package, so
// those imports are resolved here directly; every other import takes Node's own path.
const packageJson = new URL('package.json', import.meta.resolve('drizzle-orm').replace(/\/index\.js$/, '/'));
const packageRoot = new URL('.', packageJson).href;
const isModulePackage = (readFileSync(packageJson, 'utf8').match(/"type"\s*:\s*"(\w+)"/)?.[1] ?? '') === 'module';

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
      return nextResolve(specifier, context);
    },
  });
}
