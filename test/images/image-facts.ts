// What an image is and what its containers did, read with podman for test/images.
import { podman } from '../../scripts/podman.mjs';

// What compiles or runs TypeScript in development: none of it may reach an image.
export const TOOLS = ['typescript', 'tsx', 'esbuild', 'vitest', 'vite'];

/** The parts of an image's configuration that deployments rely on. */
export interface ImageConfig {
  user: string;
  cmd: string[];
  entrypoint: string[];
  exposed: string[];
  env: Record<string, string>;
  healthcheck: string[];
}

/** `podman image inspect`, reduced to the fields deployments rely on. */
export async function imageConfig(name: string): Promise<ImageConfig> {
  const [img] = JSON.parse(await podman(['image', 'inspect', name]));
  const c = img.Config;
  return {
    user: c.User,
    cmd: c.Cmd ?? [],
    entrypoint: c.Entrypoint ?? [],
    exposed: Object.keys(c.ExposedPorts ?? {}).sort(),
    env: Object.fromEntries((c.Env ?? []).map((e: string) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
    healthcheck: img.Healthcheck?.Test ?? c.Healthcheck?.Test ?? [],
  };
}

// Run inside the image as its user: who it is, and every file under its working directory
// (symlinks not followed: pnpm's links point inside the tree), and the global node modules.
const LIST = `const fs = require('node:fs'), p = require('node:path');
const files = fs.readdirSync('.', { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => p.join(e.parentPath, e.name));
const global = fs.readdirSync('/usr/local/lib/node_modules');
console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), cwd: process.cwd(), files, global }));`;

const listed = new Map<string, Promise<{ uid: number; gid: number; cwd: string; files: string[]; global: string[] }>>();

/** The uid, gid, working directory and files of a fresh container of `name` (its own CMD replaced). */
export function imageFiles(name: string) {
  if (!listed.has(name)) listed.set(name, podman(['run', '--rm', '--network', 'none', name, 'node', '-e', LIST]).then((out) => JSON.parse(out)));
  return listed.get(name)!;
}

/** Runs a line of JavaScript with node inside a running container; its stdout, trimmed. */
export async function exec(container: string, js: string): Promise<string> {
  return (await podman(['exec', container, 'node', '-e', js])).trim();
}

/** The ids of the jobs a worker container logged as finished (its pino `job finished` lines). */
export async function jobsFinishedBy(container: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const line of (await podman(['logs', container])).split('\n')) {
    if (!line.includes('"job finished"')) continue;
    const entry = JSON.parse(line);
    if (entry.msg === 'job finished') ids.add(entry.job_id);
  }
  return ids;
}
