// `npm run bench`: set up like `npm start`, then run the benchmark package.
// `npm run bench -- quantize [...]`: the int8 variants of the model instead (bench/src/quantize.ts).
import { spawnSync } from 'node:child_process';
import { build } from './build.mjs';
import { ensureChromium, ensureDependencies, ensureModel, ensureRedisServer, nodeArgs, root } from './lib.mjs';

const [first, ...rest] = process.argv.slice(2);
const quantize = first === 'quantize';
ensureDependencies();
// --footprint runs the compiled API and worker beside the sources.
build();
await ensureModel();
if (quantize) {
  ensureChromium();
} else {
  // The Python baselines' environment (bench/baseline/.venv) is made by the benchmark itself.
  ensureRedisServer();
}
const script = quantize ? 'bench/src/quantize.ts' : 'bench/src/main.ts';
const r = spawnSync(process.execPath, [...nodeArgs(script), ...(quantize ? rest : process.argv.slice(2))], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
