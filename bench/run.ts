/**
 * `npm run bench`: every issue's figures, on PGlite and (when reachable) Postgres. `--db=pglite|postgres`
 * keeps one database; each file also runs alone (`node bench/rollback.ts --db=postgres`).
 */
const only = process.argv.find((arg) => arg.startsWith('--db='))?.slice('--db='.length);

// Issue 3: a change set of 1,000 contacts × 10 properties through the server, against a fake HubSpot over HTTP.
await (await import('./change-set.ts')).benchChangeSet(only);

// Issue 4: seconds from `npm start` to the demo summary, and the sandbox's own cost per batch call.
await (await import('./sandbox.ts')).benchSandbox();

// Issue 5: deciding 1,000 approvals until HubSpot shows values, cleared shadows and updated approval objects.
await (await import('./approvals.ts')).benchApprovals(only);

// Issue 6: webhook intake against a bare Express endpoint, then the stored backlog processed.
await (await import('./webhooks.ts')).benchWebhooks(only);

// Issue 7: rollback of 8,000 contacts under HubSpot's rate limit, and the CLI's memory for 100,000 items.
await (await import('./rollback.ts')).benchRollback(only);

// Issue 8: the HubSpot app's card and settings reads, signed as HubSpot signs them.
await (await import('./extension-card.ts')).benchExtension(only);

// Issue 20: a change set and a rollback against the local Salesforce, API calls against the floor.
await import('./salesforce.ts');

// Issue 22: propose_crm_changes over MCP against the REST call for the same change set.
await (await import('./mcp.ts')).benchMcp(only);
// Issue 22: audit events streamed per second to a local OTLP receiver from a stored backlog.
await (await import('./siem.ts')).benchSiem(only);
