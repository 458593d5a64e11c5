import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EnvSchema, loadConfig } from '@spotter/config';
import { createLogger } from '@spotter/telemetry';
import { composeApi } from '../apps/api/src/compose-api.js';
import { openApiDocument } from '../apps/api/src/openapi/openapi-document.js';
import { root } from '../scripts/lib.mjs';
import { routesOf } from './support/route-table.js';
import { startSpotter, type Spotter } from './support/spotter.js';

// The documentation is part of the product: its commands must run and its routes exist.
const run = promisify(execFile);
const DOCS = ['README.md', ...(await readdir(path.join(root, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const read = (f: string) => readFile(path.join(root, f), 'utf8');

/** The shell lines of a page's ```sh blocks, continuation lines joined, comments dropped. */
async function shellLines(file: string): Promise<string[]> {
  const text = await read(file);
  const lines: string[] = [];
  for (const m of text.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)) {
    for (const raw of m[1]!.replace(/\\\n\s*/g, ' ').split('\n')) {
      const line = raw.replace(/\s+#\s.*$/, '').trim();
      if (line && !line.startsWith('#')) lines.push(line);
    }
  }
  return lines;
}

/** A route template as a pattern: /v1/jobs/:id matches /v1/jobs/$JOB and /v1/jobs/5b0c... */
const templateRe = (t: string) => new RegExp(`^${t.replace(/:[a-z_]+/gi, '[^/]+').replace(/\*.*$/, '.*')}$`);

describe('the documentation', () => {
  let routes: string[];
  let close: () => Promise<void>;
  beforeAll(async () => {
    const config = loadConfig({ REDIS_URL: inject('redisUrl'), SPOTTER_QUEUE_PREFIX: 'docs', SPOTTER_STORAGE: `file://${await mkdtemp(path.join(os.tmpdir(), 'spotter-docs-'))}`, SPOTTER_MODEL_DIR: path.join(root, 'models') });
    const composed = await composeApi(config, createLogger('docs', 'silent'), '0.0.0');
    routes = routesOf(composed.app as Express);
    close = composed.close;
  });
  afterAll(() => close?.());

  it('docs/configuration.md describes every environment variable Spotter reads', async () => {
    const page = await read('docs/configuration.md');
    const missing = Object.keys(EnvSchema.shape).filter((name) => !page.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('the OpenAPI document describes every /v1 and /v2 route, and nothing that is not routed', () => {
    const doc = openApiDocument('0.0.0');
    const documented = Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`));
    const api = (list: string[]) => list.filter((r) => / \/v[12](\/|$)/.test(r));
    const same = (a: string) => a.replace(/:\w+/g, ':p');
    expect(api(routes).filter((r) => !documented.some((d) => same(d) === same(r)))).toEqual([]);
    expect(api(documented).filter((d) => !routes.some((r) => same(r) === same(d)))).toEqual([]);
  });

  it('every command shown is one that exists: routes, npm scripts, CLI commands, files, image targets', async () => {
    const scripts = Object.keys(JSON.parse(await read('package.json')).scripts);
    const cli = [...(await read('apps/cli/src/main.ts')).matchAll(/spotter (\w+)/g)].map((m) => m[1]);
    const stages = [...(await read('Dockerfile')).matchAll(/^FROM .* AS (\S+)/gm)].map((m) => m[1]);
    const problems: string[] = [];
    let checked = 0;
    for (const file of DOCS) {
      for (const line of await shellLines(file)) {
        const fail = (why: string) => problems.push(`${file}: ${line}\n  ${why}`);
        const word = line.split(/\s+/);
        if (word[0] === 'curl') {
          const url = /(?:\$URL|https?:\/\/(?:127\.0\.0\.1|localhost):8080)(\/[^\s"'?]*)?/.exec(line);
          if (!url) continue;
          const method = /-X\s+(\w+)/.exec(line)?.[1] ?? (/\s(-F|-d|--data\S*)\s/.test(line) ? 'POST' : 'GET');
          const p = (url[1] ?? '/').replace(/\.\.\.$/, 'x');
          if (!routes.some((r) => r.startsWith(`${method} `) && templateRe(r.slice(method.length + 1)).test(p))) fail(`no route ${method} ${p}`);
        } else if (word[0] === 'npm') {
          const script = word[1] === 'run' ? word[2] : word[1];
          if (!scripts.includes(script!)) fail(`no npm script "${script}"`);
          if (script === 'spotter' && !cli.includes(word[4])) fail(`no CLI command "${word[4]}"`);
        } else if (word[0] === 'node' || word[0] === 'node_modules/.bin/vitest' || word[0] === 'promtool') {
          for (const arg of word.slice(1).filter((a) => /^(apps|packages|test|scripts|bench|deploy)\/|\.(m?js|ts|ya?ml)$/.test(a))) {
            if (!existsSync(path.join(root, arg))) fail(`no file ${arg}`);
          }
        } else if (word[0] === 'kubectl' && /kustomize|apply/.test(line)) {
          const dir = word.find((w) => w.startsWith('deploy/'));
          if (!dir || !existsSync(path.join(root, dir))) fail(`no kustomization ${dir}`);
        } else if (word[0] === 'docker' && word[1] === 'build') {
          const target = /--target\s+(\S+)/.exec(line)?.[1];
          if (target && !stages.includes(target)) fail(`no Dockerfile stage ${target}`);
        } else continue;
        checked++;
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(40);
  });

  describe('the README session, run as printed against a real stack', () => {
    let spotter: Spotter;
    beforeAll(async () => {
      spotter = await startSpotter();
    });
    afterAll(() => spotter?.stop());

    it('submits, waits, reads, draws and lists, every call answering 2xx', async () => {
      const readme = await read('README.md');
      const block = /<!-- tested by test\/docs\.test\.ts -->\n```sh\n([\s\S]*?)```/.exec(readme)?.[1];
      expect(block, 'the README keeps its session in a marked ```sh block').toBeTruthy();
      // `curl -f` makes any 4xx or 5xx fail the script; the session runs from the repository root, as a reader would.
      expect(block).toMatch(/curl -sf/);
      const script = `set -euo pipefail\n${block!.replace('http://127.0.0.1:8080', spotter.url)}`;
      const { stdout } = await run('bash', ['-c', script], { cwd: root, timeout: 60_000 });
      expect(stdout).toContain('"status":"succeeded"');
      expect(stdout).toContain('"label":"tv"');
      expect(stdout).toContain('"name":"yolox_nano"');
    });
  });
});
