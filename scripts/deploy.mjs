// `node scripts/deploy.mjs <app> <dir>`: the production tree of one app (api, worker, cli) in
// <dir>: its compiled dist/, its package.json and its production dependencies only, the
// workspace packages among them as their compiled dist/ (`files`). Run with plain
// `node <dir>/dist/main.js`. The Dockerfile's build stage runs exactly this, and so does
// test/build/deploy.test.ts, outside Docker.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from './build.mjs';
import { ensureDependencies, fail, pnpm, say } from './lib.mjs';

const [app, dir] = process.argv.slice(2);
if (!app || !dir) fail('usage: node scripts/deploy.mjs <api|worker|cli> <dir>');
ensureDependencies();
build();
const out = path.resolve(dir);
say(`deploying @spotter/${app} to ${out}`);
pnpm(['deploy', '--prod', '--filter', `@spotter/${app}`, out]);

// onnxruntime-node ships its native libraries for every platform (~180 MB for macOS and
// Windows); keep this platform's only.
const pnpmStore = path.join(out, 'node_modules', '.pnpm');
for (const entry of existsSync(pnpmStore) ? readdirSync(pnpmStore).filter((e) => e.startsWith('onnxruntime-node@')) : []) {
  const bin = path.join(pnpmStore, entry, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
  for (const os of existsSync(bin) ? readdirSync(bin) : []) {
    if (os !== process.platform) rmSync(path.join(bin, os), { recursive: true });
    else for (const arch of readdirSync(path.join(bin, os))) if (arch !== process.arch) rmSync(path.join(bin, os, arch), { recursive: true });
  }
}
