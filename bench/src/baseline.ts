import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, root } from '../../scripts/lib.mjs';

const BASELINES = path.join(root, 'bench', 'baseline');
/** The FastAPI + onnxruntime baseline's own Python environment (bench/baseline/.venv, not committed). */
const VENV = path.join(BASELINES, '.venv');
const venvPython = path.join(VENV, 'bin', 'python');

/**
 * Makes bench/baseline/.venv with requirements.txt installed from this machine's pip
 * configuration (a local mirror here), once per change of the requirements. Returns why it
 * could not (no python3 venv module, a package the index does not have), or null.
 */
export function ensureOnnxBaselineVenv(say: (msg: string) => void): string | null {
  const requirements = path.join(BASELINES, 'requirements.txt');
  const digest = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const stamp = path.join(VENV, '.spotter-requirements');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return null;
  say(`baseline: creating ${path.relative(root, VENV)} and installing ${path.relative(root, requirements)} with pip`);
  const made = spawnSync('/usr/bin/python3', ['-m', 'venv', '--clear', VENV], { encoding: 'utf8' });
  if (made.status !== 0) return `python3 -m venv failed (${(made.stderr || made.error?.message || '').trim().split('\n').at(-1)}); Debian: apt-get install python3-venv`;
  // No retries: an index this machine cannot reach is skipped at once instead of after minutes.
  const pip = spawnSync(venvPython, ['-m', 'pip', 'install', '--quiet', '--retries', '0', '--timeout', '15', '-r', requirements], { encoding: 'utf8' });
  if (pip.status !== 0) {
    const reason = pip.stderr.split('\n').filter((l) => /error/i.test(l)).slice(-2).join(' ').trim();
    return `pip could not install ${path.relative(root, requirements)}: ${reason || `exit ${pip.status}`}`;
  }
  writeFileSync(stamp, digest);
  return null;
}

/** The baselines `npm run bench` compares with: the seed's OpenCV DNN server, and FastAPI + onnxruntime. */
export type BaselineKind = 'opencv-dnn' | 'onnxruntime';

const SCRIPTS: Record<BaselineKind, string> = { 'opencv-dnn': 'fastapi_opencv.py', onnxruntime: 'fastapi_onnxruntime.py' };

/**
 * The venv carries what both baselines import (OpenCV, FastAPI, uvicorn, multipart); where
 * it could not be made, the seed's OpenCV DNN server runs on the system's Python and its
 * Debian packages (python3-opencv python3-fastapi python3-uvicorn python3-multipart).
 */
const pythonFor = (kind: BaselineKind) => (kind === 'onnxruntime' || existsSync(path.join(VENV, '.spotter-requirements')) ? venvPython : '/usr/bin/python3');

/** Starts a baseline server and waits until it answers; its pid is the root of its processes. */
export async function startBaseline(kind: BaselineKind, model: string, workers = 1) {
  const port = await freePort();
  const script = path.join(BASELINES, SCRIPTS[kind]);
  const args = kind === 'opencv-dnn' ? [script, model, String(port)] : [script, 'serve', model, String(port), String(workers)];
  const child = spawn(pythonFor(kind), args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: BASELINES });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the ${kind} baseline (${pythonFor(kind)}) exited with ${child.exitCode}: ${stderr.trim().split('\n').at(-1)}`);
    const ok = await fetch(`${url}/docs`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the ${kind} baseline did not start in 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  // uvicorn's supervisor answers before every worker has loaded its session: warm each one.
  const warm = readFileSync(path.join(root, '..', 'shared', 'datasets', 'coco-val128', 'images', '000000000139.jpg'));
  await Promise.all(Array.from({ length: workers * 4 }, async () => {
    const form = new FormData();
    form.append('image', new Blob([warm]), 'warm.jpg');
    await (await fetch(`${url}/predict`, { method: 'POST', body: form })).arrayBuffer();
  }));
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** CPU ms per image of each stage of a baseline, one image at a time in one process. */
export function baselineStages(kind: BaselineKind, model: string, files: readonly string[]): Record<string, number> {
  const r = spawnSync(pythonFor(kind), [path.join(BASELINES, SCRIPTS[kind]), 'stages', model, ...files], { encoding: 'utf8', cwd: BASELINES });
  if (r.status !== 0) throw new Error(`the baseline's stage measurement failed: ${r.stderr.trim().split('\n').at(-1)}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}
