// `npm run spotter -- <command> ...`: the command-line tool (evaluation and friends).
import { spawnSync } from 'node:child_process';
import { ensureDependencies, ensureModel, nodeArgs, root } from './lib.mjs';

ensureDependencies();
await ensureModel();
const r = spawnSync(process.execPath, [...nodeArgs('apps/cli/src/main.ts'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
