// Vite builds the page; a small plugin copies the offline manager's worker files from the
// installed package into the build output, and Workbox's generateSW then writes the app's
// service worker (dist/sw.js), which importScripts our worker after the app's own set-up code.
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {defineConfig} from 'vite';
import {generateSW} from 'workbox-build';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const APP_VERSION = process.env.APP_VERSION || '1';
const outDir = path.resolve(here, process.env.OUT_DIR || 'dist');

/** Emits offline-manager-sw.js and its wasm (from the package's exports) beside sw.js. */
function offlineManagerWorker() {
  return {
    name: 'offline-manager-worker',
    generateBundle() {
      for (const [fileName, specifier] of [
        ['offline-manager-sw.js', '@offline-manager/web/sw'],
        ['offline-manager-sw_bg.wasm', '@offline-manager/web/sw.wasm'],
      ]) {
        this.emitFile({type: 'asset', fileName, source: readFileSync(require.resolve(specifier))});
      }
    },
  };
}

/** After the bundle is written: the Workbox worker, precaching the app (not our worker files). */
function workbox() {
  return {
    name: 'workbox-generate-sw',
    apply: 'build',
    async closeBundle() {
      const {count, size, warnings} = await generateSW({
        globDirectory: outDir,
        globPatterns: ['**/*.{html,js,css,svg,png}'],
        globIgnores: ['sw.js', 'workbox-*.js', 'sw-setup.js', 'offline-manager-sw*'],
        swDest: path.join(outDir, 'sw.js'),
        // The app's own code first (it sets self.OFFLINE_MANAGER), then ours: both are added
        // during the worker's first evaluation, before Workbox's own listeners.
        importScripts: ['sw-setup.js', 'offline-manager-sw.js'],
        // The app decides how updates take over: this one activates a new build at once.
        skipWaiting: true,
        clientsClaim: true,
        cleanupOutdatedCaches: true,
        inlineWorkboxRuntime: true,
        mode: 'production',
        sourcemap: false,
      });
      for (const w of warnings) console.warn('workbox:', w);
      console.log(`workbox: sw.js precaches ${count} files, ${size} bytes`);
    },
  };
}

export default defineConfig({
  root: here,
  logLevel: 'warn',
  define: {__APP_VERSION__: JSON.stringify(APP_VERSION)},
  build: {outDir, emptyOutDir: true},
  plugins: [offlineManagerWorker(), workbox()],
});
