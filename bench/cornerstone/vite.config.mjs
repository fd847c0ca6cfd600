import { defineConfig } from 'vite';

// Standalone bench page. The @cornerstonejs packages ship ESM with web workers and
// CommonJS dependencies; see shared STACK.md ("Viewer") for why these settings exist.
export default defineConfig({
  logLevel: 'warn',
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['@cornerstonejs/core', '@cornerstonejs/tools'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 8000, sourcemap: false },
  preview: { host: '127.0.0.1', port: 4179, strictPort: true },
});
