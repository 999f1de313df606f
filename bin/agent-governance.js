#!/usr/bin/env node
// The CLI is TypeScript run by Node's own type stripping (Node 22.18+), straight from the checkout.
await import('../server/src/cli/main.ts');
