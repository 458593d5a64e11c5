import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort, root } from '../../scripts/lib.mjs';

/** Starts bench/baseline/fastapi_opencv.py (Debian's python3) and waits until it answers. */
export async function startBaseline(model: string) {
  const port = await freePort();
  const child = spawn('/usr/bin/python3', [path.join(root, 'bench', 'baseline', 'fastapi_opencv.py'), model, String(port)], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the FastAPI baseline exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/docs`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error('the FastAPI baseline did not start in 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
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
