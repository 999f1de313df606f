#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=8
// The CLI is TypeScript run by Node's own type stripping (Node 22.18+), straight from the checkout.
// A small young generation, as `npm start` uses: Node's default on a large machine costs ~120 MB of RSS at
// load, and both semi-spaces are touched whole, so 16 MB ones held 20 MB more of `audit verify`'s peak on
// PGlite than 8 MB ones, for the same time (garbage collection: 0.5 against 0.6 s of 1,000,000 events).
// Two malloc arenas: glibc gives each thread that allocates (V8's helpers, libuv's pool) its own,
// and their fragments added about 25 MB to a 100,000-item rollback's peak on PGlite.
await import('./require-node.js');
await import('./compile-cache.js');
await import('../server/src/cli/main.ts');
