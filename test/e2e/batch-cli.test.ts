import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { root } from '../../scripts/lib.mjs';
import { DATASET, startSpotter, type Spotter } from '../support/spotter.js';
import { until } from '../support/until.js';

const KEY = 'batch-cli-tenant-01';

/** `npm run spotter -- batch ...` as a user runs it: a child process, talking HTTP. */
function cli(spotter: Spotter, args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/cli/src/main.ts', 'batch', ...args, '--url', spotter.url, '--key', KEY], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const done = new Promise<{ code: number | null; out: string }>((resolve) => child.on('exit', (code) => resolve({ code, out })));
  return { child, done };
}

async function folderOf(n: number, offset = 0) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-cli-batch-'));
  await mkdir(path.join(dir, 'photos'));
  const files = (await readdir(path.join(DATASET, 'images'))).sort().slice(offset, offset + n);
  for (const f of files) await symlink(path.join(DATASET, 'images', f), path.join(dir, 'photos', f));
  await writeFile(path.join(dir, 'notes.txt'), 'not an image');
  return { dir, files };
}

const posts = (spotter: Spotter) => (spotter.api.output().match(/"route":"\/v1\/batches","status":202/g) ?? []).length;

describe('spotter batch (the command line)', () => {
  let spotter: Spotter;
  beforeAll(async () => {
    spotter = await startSpotter({ SPOTTER_API_KEYS: KEY });
  });
  afterAll(() => spotter?.stop());

  it('submits a folder, follows the progress, writes one JSON line per image; a second run resumes without resubmitting', async () => {
    const { dir, files } = await folderOf(24);
    const out = path.join(dir, 'results.jsonl');
    const first = await cli(spotter, [dir, '--out', out, '--min-score', '0.3']).done;
    expect(first.code, first.out).toBe(0);
    expect(first.out).toMatch(/succeeded: 24 succeeded, 0 failed, 0 cancelled, 1 skipped/);
    const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.source)).toEqual(files.map((f) => `photos/${f}`));
    expect(lines.every((l) => l.status === 'succeeded')).toBe(true);
    const state = JSON.parse(await readFile(`${out}.state.json`, 'utf8'));
    expect(posts(spotter)).toBe(1);
    const again = await cli(spotter, [dir, '--out', out, '--min-score', '0.3']).done;
    expect(again.code, again.out).toBe(0);
    expect(again.out).toContain(`resuming batch ${state.batch_id}`);
    expect(posts(spotter)).toBe(1);
  });

  it('resumes after being interrupted once the batch was accepted', async () => {
    const { dir } = await folderOf(40, 24);
    const out = path.join(dir, 'results.jsonl');
    const run = cli(spotter, [dir, '--out', out]);
    const state = await until(async () => JSON.parse(await readFile(`${out}.state.json`, 'utf8').catch(() => 'null'))?.batch_id ?? undefined);
    run.child.kill('SIGINT');
    await run.done;
    const before = posts(spotter);
    const resumed = await cli(spotter, [dir, '--out', out]).done;
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toContain(`resuming batch ${state}`);
    expect(posts(spotter)).toBe(before);
    expect((await readFile(out, 'utf8')).trim().split('\n')).toHaveLength(40);
    // A state file cut short (an older version interrupted mid-write) is not an error: the run
    // submits again under the same idempotency key and gets the batch it had.
    const saved = await readFile(`${out}.state.json`, 'utf8');
    await writeFile(`${out}.state.json`, saved.slice(0, saved.length >> 1));
    const replayed = await cli(spotter, [dir, '--out', out]).done;
    expect(replayed.code, replayed.out).toBe(0);
    expect(replayed.out).toContain(`batch ${state}: 40 images`);
    expect(JSON.parse(await readFile(`${out}.state.json`, 'utf8')).batch_id).toBe(state);
  });
});
