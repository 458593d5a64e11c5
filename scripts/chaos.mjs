// `npm run chaos`: the fault suite (test/faults) at larger counts, with a report in bench/results/.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDependencies, ensureModel, ensureRedisServer, root, say } from './lib.mjs';

ensureDependencies();
await ensureModel();
ensureRedisServer();

const jsonl = path.join(root, 'bench', 'results', 'chaos.jsonl');
rmSync(jsonl, { force: true });
say('chaos: the fault scenarios at full size (10 worker kills, Redis SIGKILL and FLUSHALL, a 60 s storage outage, a 2,000-request burst)');
const r = spawnSync(path.join(root, 'node_modules', '.bin', 'vitest'), ['run', 'test/faults', '--maxWorkers=1', '--testTimeout=900000', '--hookTimeout=300000'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, SPOTTER_CHAOS: '1', SPOTTER_CHAOS_REPORT: jsonl },
});

const rows = existsSync(jsonl) ? readFileSync(jsonl, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
const totals = rows.reduce(
  (t, x) => ({
    accepted: t.accepted + (x.accepted ?? 0),
    lost: t.lost + (x.lost ?? 0),
    missing: t.missing + (x.webhooks?.missing ?? 0),
    duplicates: t.duplicates + (x.webhooks?.duplicates ?? 0),
    processedTwice: t.processedTwice + (x.processedTwice ?? 0),
    mismatched: t.mismatched + (x.mismatched ?? 0),
  }),
  { accepted: 0, lost: 0, missing: 0, duplicates: 0, processedTwice: 0, mismatched: 0 },
);
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const md = [
  `# Chaos run (${new Date().toISOString()})`,
  '',
  `${os.availableParallelism()} cores (${cpu}); vitest ${r.status === 0 ? 'passed' : `FAILED (exit ${r.status})`}.`,
  '',
  `Totals over ${rows.length} scenarios: ${totals.accepted} jobs accepted, ${totals.lost} lost, ${totals.missing} missing webhooks, ${totals.duplicates} duplicate webhooks, ${totals.processedTwice} computed twice, ${totals.mismatched} disagreements between GET, record and webhook.`,
  '',
  '| scenario | figures |',
  '|---|---|',
  ...rows.map(({ scenario, ...f }) => `| ${scenario} | \`${JSON.stringify(f)}\` |`),
  '',
].join('\n');
writeFileSync(path.join(root, 'bench', 'results', 'chaos.md'), md);
say(`chaos report: bench/results/chaos.md`);
process.exit(r.status ?? 1);
