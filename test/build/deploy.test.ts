import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, launchService, PRODUCTION_NODE_OPTIONS, root, stopService } from '../../scripts/lib.mjs';
import { datasetImage } from '../support/images.js';
import { postForm, stackEnv, type SpotterProcess } from '../support/spotter.js';

const run = promisify(execFile);
const APPS = ['api', 'worker', 'cli'] as const;

// What compiles or runs TypeScript in development: none of it may reach production.
const TOOLS = ['typescript', 'tsx', 'esbuild', 'vitest', 'vite'];

/** Every file under `dir`, relative, following no symlink (pnpm's links point inside the tree). */
async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

// The commands the Dockerfile's build stage runs (scripts/deploy.mjs: build, pnpm deploy --prod),
// then the processes started as the images start them: plain node on dist/, no tsx, with the
// images' NODE_OPTIONS, from a directory outside the repository so nothing resolves into its
// node_modules.
describe('production build: pnpm deploy --prod, then plain node', () => {
  let dir: string;
  let storageDir: string;
  let url: string;
  let env: NodeJS.ProcessEnv;
  const processes: SpotterProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-deploy-'));
    for (const app of APPS) await run(process.execPath, ['scripts/deploy.mjs', app, path.join(dir, app)], { cwd: root });
    storageDir = await mkdtemp(path.join(os.tmpdir(), 'spotter-deploy-data-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = { ...stackEnv(port, storageDir), NODE_OPTIONS: PRODUCTION_NODE_OPTIONS, SPOTTER_URL: url };
    processes.push((await launchService('worker', path.join(dir, 'worker', 'dist', 'main.js'), env, /spotter worker ready/)) as SpotterProcess);
    processes.push((await launchService('api', path.join(dir, 'api', 'dist', 'main.js'), env, /spotter api listening/)) as SpotterProcess);
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => stopService(p)));
    if (dir) await rm(dir, { recursive: true, force: true });
    if (storageDir) await rm(storageDir, { recursive: true, force: true });
  });

  it('ships compiled JavaScript and production dependencies only', async () => {
    for (const app of APPS) {
      const files = await filesUnder(path.join(dir, app));
      // pnpm's virtual store names each package directory <name>@<version>, scope '/' as '+'.
      const packages = new Set(files.filter((f) => f.startsWith('node_modules/.pnpm/')).map((f) => f.split('/')[2]!.replace(/@[^@]*$/, '').replace('+', '/')));
      expect(packages.has('zod'), app).toBe(true);
      expect(TOOLS.filter((name) => packages.has(name)), app).toEqual([]);
      // No TypeScript source anywhere: declarations only.
      expect(files.filter((f) => /\.[cm]?ts$/.test(f) && !/\.d\.[cm]?ts$/.test(f) && !f.startsWith('node_modules/.pnpm/')), app).toEqual([]);
      expect(files.filter((f) => f.startsWith('node_modules/.pnpm/@spotter+') && f.includes('/src/')), app).toEqual([]);
      expect(files, app).toContain('dist/main.js');
    }
    // The detector's inference thread is plain JavaScript loaded by URL: it must be in dist/.
    expect((await filesUnder(path.join(dir, 'worker'))).some((f) => f.endsWith('@spotter/detector/dist/inference-thread.mjs'))).toBe(true);
  });

  it('runs the API and a worker with plain node: one real job through /v1/predict', async () => {
    for (const p of processes) {
      const cmdline = (await readFile(`/proc/${p.child.pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      expect(cmdline.slice(1)).toEqual([path.join(dir, p.name, 'dist', 'main.js')]);
    }
    const res = await postForm(`${url}/v1/predict`, await datasetImage());
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    expect(res.body.result.model).toMatchObject({ name: 'yolox_nano', version: 'd39bee73564e' });
    expect(res.body.result.detections.map((d: { label: string }) => d.label)).toContain('person');
  });

  it('runs the CLI with plain node against that API', async () => {
    const { stdout } = await run(process.execPath, [path.join(dir, 'cli', 'dist', 'main.js'), 'rollout', 'status'], { env, cwd: dir });
    expect(JSON.parse(stdout)).toMatchObject({ live: 'yolox_nano', mode: 'none' });
  });
});
