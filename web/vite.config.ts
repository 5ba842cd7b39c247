import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The app is served by the service itself (same origin), so there is no proxy or base URL to set
// for production. `vite` dev mode proxies the API to a local server on port 3000.
export default defineConfig({
  root,
  plugins: [preact({ devToolsInProd: false, prerender: { enabled: false } })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:3000',
      '/health': 'http://127.0.0.1:3000',
    },
  },
});
