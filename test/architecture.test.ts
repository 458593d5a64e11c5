import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../scripts/lib.mjs';

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** dependency-cruiser with the house rules (.dependency-cruiser.cjs) over `dirs`, run from `cwd`. */
function cruise(cwd: string, dirs: string[]): Violation[] {
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'), ...dirs, '--config', path.join(root, '.dependency-cruiser.cjs'), '--output-type', 'json'], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (!r.stdout) throw new Error(`dependency-cruiser failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('architecture', () => {
  it('has no import cycle, no app importing another app, no package importing an app, pure packages free of I/O, and Redis only in the stores', () => {
    const violations = cruise(root, ['apps', 'packages', 'bench']);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  });

  it('catches each kind of break (the rules are not vacuous)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-arch-'));
    const file = async (rel: string, text: string) => {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), text);
    };
    await file('apps/a/src/main.ts', "import { b } from '../../b/src/b.js';\nexport const a = b;\n");
    await file('apps/b/src/b.ts', 'export const b = 1;\n');
    await file('packages/shared/src/pure.ts', "import { readFileSync } from 'node:fs';\nexport const p = readFileSync;\n");
    await file('packages/jobs/src/one.ts', "import { two } from './two.js';\nexport const one = () => two;\n");
    await file('packages/jobs/src/two.ts', "import { one } from './one.js';\nexport const two = () => one;\n");
    await file('packages/jobs/src/up.ts', "import { a } from '../../../apps/a/src/main.js';\nexport const up = a;\n");
    await file('packages/jobs/src/raw.ts', "import { Redis } from 'ioredis';\nexport const raw = Redis;\n");
    // A module where the resolver looks for it, so the import resolves to node_modules/ioredis.
    await file('node_modules/ioredis/package.json', '{"name": "ioredis", "main": "index.js"}');
    await file('node_modules/ioredis/index.js', 'export class Redis {}\n');
    const rules = cruise(dir, ['apps', 'packages']).map((v) => v.rule.name);
    expect([...new Set(rules)].sort()).toEqual(['apps-do-not-import-apps', 'no-circular', 'packages-do-not-import-apps', 'pure-packages-stay-pure', 'redis-only-in-stores']);
  });
});
