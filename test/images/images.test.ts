// The images built for real (podman, from the unchanged Dockerfile) and run as the compose
// stack (docker-compose.yml + deploy/podman/compose.stand-ins.yml): what they hold, what the
// Kubernetes manifests assume of them, the README session, two workers sharing jobs and a
// worker killed mid-job. Minutes of image builds: not part of `npm test`; `npm run test:images`
// (vitest.images.config.ts), which CI runs after it (.ci/run). See docs/building.md.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageNames, imageSizes } from '../../scripts/images.mjs';
import { root } from '../../scripts/lib.mjs';
import { podman, podmanUnavailable } from '../../scripts/podman.mjs';
import { startStack } from '../../scripts/stack.mjs';
import { have, render, type K8sObject } from '../deploy/manifests.js';
import { datasetImage } from '../support/images.js';
import { getJson, postForm } from '../support/spotter.js';
import { until } from '../support/until.js';
import { exec, jobsFinishedBy, type ImageConfig, imageConfig, imageFiles, TOOLS } from './image-facts.js';

const unavailable = podmanUnavailable();
if (unavailable) console.warn(`test/images skipped: ${unavailable}`);

type Stack = Awaited<ReturnType<typeof startStack>>;
type Container = Awaited<ReturnType<Stack['containers']>>[number];
const FINAL = ['succeeded', 'failed', 'cancelled'];

describe.skipIf(!!unavailable)('the images, built with podman and run as the compose stack', () => {
  const names = imageNames();
  const figures: Record<string, unknown> = {};
  const config: Record<'api' | 'worker', ImageConfig> = {} as never;
  let stack: Stack;
  let auth: Record<string, string>;
  let image: Buffer;

  const running = async (service: string) => (await stack.containers()).filter((c) => c.service === service && c.state === 'running').sort((a, b) => a.number - b.number);
  const submit = async (n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await postForm(`${stack.url}/v1/jobs`, image, {}, auth);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      ids.push(res.body.id);
    }
    return ids;
  };
  const finalStatus = (id: string) =>
    until(async () => {
      const { body } = await getJson(`${stack.url}/v1/jobs/${id}?wait=10`, auth);
      return FINAL.includes(body.status) ? (body.status as string) : undefined;
    }, 180_000);
  const redis = async (...args: string[]) => (await podman(['exec', (await running('redis'))[0]!.id, 'redis-cli', ...args])).trim();

  beforeAll(async () => {
    // Built before vitest starts (scripts/test-images.mjs): a build blocks for minutes.
    for (const target of ['api', 'worker', 'redis', 's3rver'] as const) {
      if (!(await podman(['image', 'exists', names[target]]).then(() => true, () => false))) throw new Error(`no image ${names[target]}: \`npm run test:images\` builds the images, then runs this file`);
    }
    figures.size_mb = imageSizes();
    for (const target of ['api', 'worker'] as const) config[target] = await imageConfig(names[target]);
    stack = await startStack({ workers: 2 });
    figures.compose_up_s = stack.upMs / 1000;
    figures.healthy_s = stack.healthyMs / 1000;
    auth = { authorization: `Bearer ${stack.apiKey}` };
    image = await datasetImage();
  });

  afterAll(async () => {
    await stack?.stop();
    console.log(`images: ${JSON.stringify(figures)}`);
  });

  it('runs as uid 1000 and holds compiled JavaScript with production dependencies only: no TypeScript source, tsx or .env', async () => {
    for (const target of ['api', 'worker'] as const) {
      expect(config[target].user, target).toBe('node');
      const facts = await imageFiles(names[target]);
      expect(facts, target).toMatchObject({ uid: 1000, gid: 1000, cwd: '/app' });
      const files = facts.files;
      const packages = new Set(files.filter((f) => f.startsWith('node_modules/.pnpm/')).map((f) => f.split('/')[2]!.replace(/@[^@]*$/, '').replace('+', '/')));
      expect(packages.has('zod'), target).toBe(true);
      expect(TOOLS.filter((t) => packages.has(t) || facts.global.includes(t)), target).toEqual([]);
      expect(files.filter((f) => /\.[cm]?ts$/.test(f) && !/\.d\.[cm]?ts$/.test(f) && !f.startsWith('node_modules/.pnpm/')), target).toEqual([]);
      expect(files.filter((f) => /(^|\/)\.env(\.|$)/.test(f)), target).toEqual([]);
      expect(files, target).toContain('dist/main.js');
      expect(files.filter((f) => f.startsWith('models/') && f.endsWith('.onnx')), target).not.toEqual([]);
    }
  });

  it('answers its HEALTHCHECK: the API, Redis, the S3 stand-in and both workers report healthy', async () => {
    const all = await stack.containers();
    for (const service of ['api', 'worker', 'redis', 'minio']) {
      const list = all.filter((c) => c.service === service);
      expect(list.length, service).toBe(service === 'worker' ? 2 : 1);
      expect(list.map((c) => c.health), service).toEqual(list.map(() => 'healthy'));
    }
    expect(all.find((c) => c.service === 'minio-init')).toMatchObject({ state: 'exited', exitCode: 0 });
    for (const target of ['api', 'worker'] as const) expect(config[target].healthcheck.join(' '), target).toContain('/readyz');
    const ready = await getJson(`${stack.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  describe.skipIf(!have('kubectl'))('the Kubernetes manifests describe these images', () => {
    let deployments: K8sObject[];
    beforeAll(async () => {
      deployments = (await render('production')).filter((o) => o.kind === 'Deployment');
    });

    it('no command override, the ports the images expose and listen on, the uid and gid they run as', async () => {
      for (const [target, name] of [['api', 'spotter-api'], ['worker', 'spotter-worker']] as const) {
        const pod = deployments.find((d) => d.metadata.name === name)!.spec.template.spec;
        const c = pod.containers[0];
        expect(c.image, name).toMatch(new RegExp(`^spotter-${target}:`));
        // The image's CMD runs: node dist/main.js through the entry point that execs it as given.
        expect([c.command, c.args], name).toEqual([undefined, undefined]);
        expect(config[target].cmd, name).toEqual(['node', 'dist/main.js']);
        expect(c.ports.map((p: { containerPort: number }) => `${p.containerPort}/tcp`), name).toEqual(config[target].exposed);
        const portEnv = target === 'api' ? 'PORT' : 'SPOTTER_METRICS_PORT';
        expect(c.env.find((e: { name: string }) => e.name === portEnv)?.value, name).toBe(config[target].env[portEnv]);
        const { uid, gid } = await imageFiles(names[target]);
        expect({ uid: pod.securityContext.runAsUser, gid: pod.securityContext.runAsGroup, nonRoot: pod.securityContext.runAsNonRoot }, name).toEqual({ uid, gid, nonRoot: true });
      }
    });

    it('each image starts as the manifests run it: read-only root, a writable /tmp only, no capabilities', async () => {
      for (const [name, service, port] of [['spotter-api', 'api', 8080], ['spotter-worker', 'worker', 9464]] as const) {
        const c = deployments.find((d) => d.metadata.name === name)!.spec.template.spec.containers[0];
        expect([c.securityContext, c.volumeMounts], name).toEqual([{ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } }, [{ name: 'tmp', mountPath: '/tmp' }]]);
        // The stack's own container's environment and network; Kubernetes ignores the image's
        // VOLUME, so /app/data stays read-only too (--image-volume ignore).
        const [info] = JSON.parse(await podman(['inspect', (await running(service))[0]!.id]));
        const flags = ['--read-only', '--read-only-tmpfs=false', '--tmpfs', '/tmp', '--image-volume', 'ignore', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--user', '1000:1000'];
        const env = (info.Config.Env as string[]).flatMap((e) => ['--env', e]);
        const id = (await podman(['run', '-d', ...flags, '--network', Object.keys(info.NetworkSettings.Networks)[0]!, '--label', `com.docker.compose.project=${stack.project}`, ...env, names[service]])).trim();
        try {
          const status = () => exec(id, `fetch('http://127.0.0.1:${port}/readyz').then((r) => console.log(r.status), () => console.log(0))`).catch(() => '');
          await until(async () => ((await status()) === '200' ? true : undefined), 180_000);
        } finally {
          await podman(['rm', '-f', '-t', '10', id]);
        }
      }
    });

    it("every probe's path answers 200 on the running containers, reached over the network", async () => {
      const api = (await running('api'))[0]!;
      for (const [name, service] of [['spotter-api', 'api'], ['spotter-worker', 'worker']] as const) {
        const c = deployments.find((d) => d.metadata.name === name)!.spec.template.spec.containers[0];
        const target = (await running(service))[0]!;
        const ip = (await podman(['inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', target.id])).trim();
        for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
          const { path: route, port } = c[probe].httpGet;
          const number = c.ports.find((p: { name: string }) => p.name === port).containerPort;
          // From the API's container to the target's address, as the kubelet comes from outside the pod.
          const status = await exec(api.id, `fetch('http://${ip}:${number}${route}').then((r) => console.log(r.status))`);
          expect(`${name} ${probe} ${route}: ${status}`).toBe(`${name} ${probe} ${route}: 200`);
        }
      }
    });
  });

  it("serves the README's curl session, as printed, given the stack's API key", async () => {
    const readme = await readFile(path.join(root, 'README.md'), 'utf8');
    const block = /<!-- tested by test\/docs\.test\.ts -->\n```sh\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toMatch(/curl -sf/);
    // docker-compose.yml requires SPOTTER_API_KEYS: every call carries the key, as a client of it would.
    const script = `set -euo pipefail\ncurl() { command curl -H "Authorization: Bearer $SPOTTER_KEY" "$@"; }\n${block!.replace('http://127.0.0.1:8080', stack.url)}`;
    const { execFile } = await import('node:child_process');
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile('bash', ['-c', script], { cwd: root, timeout: 120_000, env: { ...process.env, SPOTTER_KEY: stack.apiKey } }, (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out))),
    );
    expect(stdout).toContain('"status":"succeeded"');
    expect(stdout).toContain('"label":"tv"');
    expect(stdout).toContain('"name":"yolox_nano"');
  });

  it('two workers share the jobs: each finishes some, none finishes the same job twice', async () => {
    const workers = await running('worker');
    expect(workers).toHaveLength(2);
    const ids: string[] = [];
    // Batches until both have taken jobs (one idle worker may win a small batch alone).
    const by = await until(async () => {
      const batch = await submit(12);
      ids.push(...batch);
      for (const id of batch) expect(await finalStatus(id)).toBe('succeeded');
      const finished = await Promise.all(workers.map((w) => jobsFinishedBy(w.id)));
      return finished.every((f) => ids.some((id) => f.has(id))) ? finished : undefined;
    }, 240_000);
    const [a, b] = by.map((f) => ids.filter((id) => f.has(id)));
    expect(a!.filter((id) => b!.includes(id))).toEqual([]);
    expect([...a!, ...b!].sort()).toEqual([...ids].sort());
    figures.shared = { jobs: ids.length, per_worker: [a!.length, b!.length] };
  });

  it('a worker killed (SIGKILL) mid-job loses no job: the other takes its jobs over and finishes them', async () => {
    const [survivor, victim] = (await running('worker')) as [Container, Container];
    const ids: string[] = [];
    let held: string[] = [];
    // The survivor stopped first, so every job in hand is the victim's; the victim stopped in turn
    // while the queue lists jobs as active, so they stay in hand until it is killed.
    await podman(['kill', '--signal', 'STOP', survivor.id]);
    try {
      held = await until(async () => {
        await podman(['kill', '--signal', 'CONT', victim.id]);
        // Four uploads at a time, so that jobs wait in the queue: one by one, the victim finished each before it was stopped.
        ids.push(...(await Promise.all(Array.from({ length: 4 }, () => submit(4)))).flat());
        await until(async () => ((await redis('LLEN', '{spotter}:detect:active')) !== '0' ? true : undefined), 30_000).catch(() => undefined);
        await podman(['kill', '--signal', 'STOP', victim.id]);
        const active = (await redis('LRANGE', '{spotter}:detect:active', '0', '-1')).split('\n').filter(Boolean);
        return active.length ? active : undefined;
      }, 240_000);
      await podman(['kill', '--signal', 'KILL', victim.id]);
    } finally {
      await podman(['kill', '--signal', 'CONT', survivor.id]).catch(() => undefined);
    }
    const killedAt = Date.now();
    for (const id of ids) expect(await finalStatus(id), id).toBe('succeeded');
    figures.takeover_s = (Date.now() - killedAt) / 1000;
    // Each job the victim held was stalled (BullMQ's stall counter: its lock expired, the
    // survivor took it over), and still succeeded.
    for (const id of held) expect(Number(await redis('HGET', `{spotter}:detect:${id}`, 'stc')), id).toBeGreaterThanOrEqual(1);
    const bySurvivor = await jobsFinishedBy(survivor.id);
    // Computed again by the survivor, or completed from the record the victim had claimed.
    figures.killed_mid_job = { jobs: ids.length, held_by_killed_worker: held.length, recomputed_by_survivor: held.filter((id) => bySurvivor.has(id)).length };
    expect((await stack.containers()).find((c) => c.id === victim.id)).toMatchObject({ state: 'exited', exitCode: 137 });
  });
});
