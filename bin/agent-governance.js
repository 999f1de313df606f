#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=16
// The CLI is TypeScript run by Node's own type stripping (Node 22.18+), straight from the checkout.
// A small young generation: Node's default on a large machine costs ~120 MB of RSS at load. Not as small
// as `npm start`'s 8 MB: at 8, `audit verify` of 1,000,000 events peaked 20 MB lower on PGlite but took 40% longer.
// Two malloc arenas: glibc gives each thread that allocates (V8's helpers, libuv's pool) its own,
// and their fragments added about 25 MB to a 100,000-item rollback's peak on PGlite.
await import('./require-node.js');
await import('./compile-cache.js');
await import('../server/src/cli/main.ts');
