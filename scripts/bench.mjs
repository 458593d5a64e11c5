// `npm run bench`: set up like `npm start`, then run the benchmark package.
// `npm run bench -- quantize [...]`: the int8 variants of the model instead (bench/src/quantize.ts).
import { spawnSync } from 'node:child_process';
import { ensureBaselineDeps, ensureChromium, ensureDependencies, ensureModel, ensureRedisServer, root } from './lib.mjs';

const [first, ...rest] = process.argv.slice(2);
const quantize = first === 'quantize';
ensureDependencies();
await ensureModel();
if (quantize) {
  ensureChromium();
} else {
  ensureRedisServer();
  ensureBaselineDeps();
}
const script = quantize ? 'bench/src/quantize.ts' : 'bench/src/main.ts';
const args = quantize ? rest : process.argv.slice(2);
const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
