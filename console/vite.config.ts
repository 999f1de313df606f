import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The web console (issue 19): built into console/dist, which the Express server serves at `/`. */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  // No inline script or style survives the server's Content-Security-Policy, so none may be emitted.
  build: { outDir: 'dist', emptyOutDir: true, assetsInlineLimit: 0, modulePreload: { polyfill: false } },
  logLevel: 'warn',
});
