// The compile cache and the resolution hook go in before the server's modules load.
import '../../bin/compile-cache.js';
import './drizzle-resolution.ts';

await import('./serve.ts');
