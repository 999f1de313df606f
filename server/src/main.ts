// The resolution hook goes in before the server's modules load (see drizzle-resolution.ts).
import './drizzle-resolution.ts';

await import('./serve.ts');
