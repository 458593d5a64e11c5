import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));
const ortDir = path.join(here, 'node_modules', 'onnxruntime-web', 'dist');
const ortVersion = (JSON.parse(readFileSync(path.join(ortDir, '..', 'package.json'), 'utf8')) as { version: string }).version;
// The WASM runtimes the edge page may load: plain (threads, SIMD) and JSEP (also WebGPU).
const ORT_FILES = ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

/**
 * Copies onnxruntime-web's runtime files into the build, under a versioned folder so they
 * can be cached for a year like the hashed assets: the API serves them, never a CDN.
 */
function onnxRuntimeFiles(): Plugin {
  let outDir = '';
  return {
    name: 'spotter-onnxruntime-files',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const dest = path.join(outDir, 'ort', ortVersion);
      mkdirSync(dest, { recursive: true });
      for (const f of ORT_FILES) copyFileSync(path.join(ortDir, f), path.join(dest, f));
    },
  };
}

export default defineConfig({
  root: here,
  base: '/console/',
  // The "extern wasm" builds load their runtime from env.wasm.wasmPaths (the copied files)
  // instead of inlining it into our bundle, where its worker threads could not find it.
  // Workspace packages are bundled from their sources ("spotter-source"): their dist/ may not
  // be built yet (a clean clone builds the console first), and the build stamp hashes sources.
  resolve: { conditions: ['spotter-source', 'onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  define: { __ORT_PATH__: JSON.stringify(`/console/ort/${ortVersion}/`) },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No inline script anywhere: the CSP forbids it.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1024,
  },
  plugins: [onnxRuntimeFiles()],
});
