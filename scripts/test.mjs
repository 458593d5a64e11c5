// `npm test`: set up, build, type-check, then run the whole suite against real Redis, S3 and the model.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { build } from './build.mjs';
import { ensureChromium, ensureConsole, ensureDependencies, ensureDeployTools, ensureModel, ensureRedisServer, root, say } from './lib.mjs';

ensureDependencies();
ensureConsole();
// The compiled output that test/build runs (pnpm deploy + plain node); incremental, so about a
// second when nothing changed.
build();
await ensureModel();
ensureRedisServer();
ensureChromium();
ensureDeployTools();

const bin = (name) => path.join(root, 'node_modules', '.bin', name);
for (const [label, cmd, args] of [
  ['type-check', bin('tsc'), ['-p', 'tsconfig.json']],
  ['type-check (console, browser libraries)', bin('tsc'), ['-p', 'apps/console/tsconfig.json']],
  ['tests', bin('vitest'), ['run', ...process.argv.slice(2)]],
]) {
  say(label);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
