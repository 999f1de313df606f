// The compile cache and the resolution hook go in before the server's modules load.
import './compile-cache.ts';
import './drizzle-resolution.ts';

await import('./serve.ts');
