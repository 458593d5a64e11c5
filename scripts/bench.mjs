// `npm run bench`: set up like `npm start`, then run the benchmark package.
import { spawnSync } from 'node:child_process';
import { build } from './build.mjs';
import { ensureBaselineDeps, ensureDependencies, ensureModel, ensureRedisServer, nodeArgs, root } from './lib.mjs';

ensureDependencies();
// --footprint runs the compiled API and worker beside the sources.
build();
await ensureModel();
ensureRedisServer();
// The routing ceiling and the footprint measure Spotter's own processes: no FastAPI comparison to set up.
if (!process.argv.includes('--routing') && !process.argv.includes('--footprint')) ensureBaselineDeps();
const r = spawnSync(process.execPath, [...nodeArgs('bench/src/main.ts'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
