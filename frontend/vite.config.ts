/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// The backend (bin/chatd) listens on 8080 by default; the dev server proxies the
// REST API and the WebSocket to it so the app stays same-origin in development.
const backend = process.env.CHAT_BACKEND ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [preact()],
  css: {
    modules: { localsConvention: 'camelCaseOnly' },
  },
  server: {
    proxy: {
      '/api/v1/ws': { target: backend, ws: true, changeOrigin: false },
      '/api': { target: backend, changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    // Production builds ship no source maps: they would hand anyone the
    // original source of the app (deploy checks: e2e/build.e2e.ts).
    sourcemap: false,
    target: 'es2022',
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
    css: { modules: { classNameStrategy: 'non-scoped' } },
  },
});
