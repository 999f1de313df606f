/**
 * The layers of docs/architecture.md as rules: `npm run lint:boundaries` fails on any import
 * that breaks one. Tests and benchmarks are not cruised: they may reach into a feature's parts.
 *
 * The script passes --ignore-known .dependency-cruiser-known-violations.json, the violations
 * older than a rule that are still allowed. It is empty: the last import cycles (the fake HubSpot's
 * state with its route files, store/schema.ts with the checkpoint table) went in issue 18. Should
 * a new rule meet old code, list what it finds there with `npx depcruise server/src shared --config
 * .dependency-cruiser.mjs --output-type baseline --output-to .dependency-cruiser-known-violations.json`,
 * then regenerate it as each is fixed, so none can come back unnoticed.
 */
const FEATURES = '^server/src/services/';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle makes load order matter (a binding read before its module ran throws).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment:
        'server/src/domain holds the rules: it imports only shared/ and node: builtins, never the store, CRM, HTTP or a package.',
      from: { path: '^server/src/domain/' },
      to: { pathNot: '^(server/src/domain|shared)/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'hubspot-sdk-only-in-its-adapter',
      severity: 'error',
      comment: 'The HubSpot SDK is used only by the HubSpot adapter; everything else talks to the CrmPort.',
      from: { pathNot: '^server/src/crm/hubspot/' },
      to: { path: 'node_modules/@hubspot/api-client/' },
    },
    {
      name: 'salesforce-sdk-only-in-its-adapter',
      severity: 'error',
      comment: 'The Salesforce SDK is used only by a Salesforce adapter.',
      from: { pathNot: '^server/src/crm/salesforce/' },
      to: { path: 'node_modules/((@types/)?jsforce|@jsforce/jsforce-node)/' },
    },
    {
      name: 'crm-adapters-behind-the-port',
      severity: 'error',
      comment:
        'Only crm/ itself and the composition root (runtime.ts) name a vendor adapter; the rest uses crm/port.ts.',
      from: { pathNot: '^server/src/(crm/|runtime\\.ts$)' },
      to: { path: '^server/src/crm/[^/]+/' },
    },
    {
      name: 'database-drivers-only-in-store',
      severity: 'error',
      comment: 'SQL lives in server/src/store: drizzle, pg and PGlite are imported nowhere else.',
      from: { pathNot: '^server/src/store/' },
      to: { path: 'node_modules/(drizzle-orm|pg|@types/pg|@electric-sql/pglite)/' },
    },
    {
      name: 'express-only-in-http',
      severity: 'error',
      comment: 'Express is the HTTP layer: only server/src/http and the app that mounts it (app.ts) import it.',
      from: { pathNot: '^server/src/(http/|app\\.ts$)' },
      to: { path: 'node_modules/(express|@types/express|@types/express-serve-static-core)/' },
    },
    {
      name: 'entry-points-through-services',
      severity: 'error',
      comment:
        'http/, cli/, jobs/ and demo/ go through services, which own the transactions, the audit trail and the rules.',
      from: { path: '^server/src/(http|cli|jobs|demo)/' },
      to: { path: '^server/src/(store|domain)/' },
    },
    {
      name: 'feature-through-its-index',
      severity: 'error',
      comment: 'A feature folder of server/src/services is entered through its index.ts; its other files are its own.',
      from: { path: `${FEATURES}([^/]+)/` },
      to: { path: `${FEATURES}[^/]+/[^/]+$`, pathNot: [`${FEATURES}$1/`, `${FEATURES}[^/]+/index\\.ts$`] },
    },
    {
      name: 'services-through-the-index-from-outside',
      severity: 'error',
      comment: 'Outside server/src/services, a feature is used through its index.ts.',
      from: { path: '^server/src/', pathNot: FEATURES },
      to: { path: `${FEATURES}[^/]+/[^/]+$`, pathNot: `${FEATURES}[^/]+/index\\.ts$` },
    },
  ],
  options: {
    parser: 'swc',
    includeOnly: '^(server/src|shared|node_modules)/',
    doNotFollow: { path: 'node_modules' },
    // A worktree may link node_modules from another checkout; keep the paths the rules name.
    preserveSymlinks: true,
    enhancedResolveOptions: {
      extensions: ['.ts', '.js'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
