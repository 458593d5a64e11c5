// `npm run bench`: set up like `npm start`, then run the benchmark package.
import { spawnSync } from 'node:child_process';
import { ensureBaselineDeps, ensureDependencies, ensureModel, ensureRedisServer, root } from './lib.mjs';

ensureDependencies();
await ensureModel();
ensureRedisServer();
// The routing ceiling runs no model comparison.
if (!process.argv.includes('--routing')) ensureBaselineDeps();
const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/src/main.ts', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
