#!/usr/bin/env -S node --max-semi-space-size=16
// The CLI is TypeScript run by Node's own type stripping (Node 22.18+), straight from the checkout.
// A small young generation, as `npm start` uses: Node's default on a large machine costs ~120 MB of RSS at load.
await import('../server/src/cli/main.ts');
