import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EnvSchema, loadConfig } from '@spotter/config';
import { root } from '../../scripts/lib.mjs';
import { parsePrometheus, valueOf } from '../support/prometheus-text.js';
import { startSpotter, type Spotter } from '../support/spotter.js';
import {
  containerEnv,
  containerPort,
  containersOf,
  have,
  KUSTOMIZE_DIR,
  knownKind,
  named,
  ofKind,
  OVERLAYS,
  render,
  schemaErrors,
  selectorsOf,
  selects,
  unknownFields,
  type Container,
  type K8sObject,
  type Overlay,
} from './manifests.js';

// Worker pool sizing: jobs per slot that the ScaledObject aims at (see scaled-object.yaml).
const JOBS_PER_SLOT = 1.5;
const SECRET_PLACEHOLDER = (key: string) => `placeholder-for-${key}-0123456789`;

const hasKubectl = have('kubectl');
if (!hasKubectl) console.warn('test/deploy/kubernetes.test.ts skipped: kubectl not found (scripts/test.mjs installs it where apt has it)');

describe.skipIf(!hasKubectl)('Kubernetes manifests (kubectl kustomize)', () => {
  // Rendered before the tests, not while collecting them, so that a skip never runs kubectl.
  let rendered: Record<Overlay, K8sObject[]>;
  let version: string;
  beforeAll(async () => {
    rendered = Object.fromEntries(await Promise.all(OVERLAYS.map(async (o) => [o, await render(o)] as const))) as Record<Overlay, K8sObject[]>;
    version = (JSON.parse(await readFile(path.join(root, 'apps/api/package.json'), 'utf8')) as { version: string }).version;
  });
  const deployments = (o: Overlay) => ofKind(rendered[o], 'Deployment');
  const component = (d: K8sObject) => d.metadata.labels?.['app.kubernetes.io/component'];
  const workers = (o: Overlay) => deployments(o).filter((d) => component(d) === 'worker');
  const api = (o: Overlay) => named(rendered[o], 'Deployment', 'spotter-api');
  const envOf = (o: Overlay, c: Container) => containerEnv(rendered[o], c, o === 'dev' ? undefined : SECRET_PLACEHOLDER);

  it.each(OVERLAYS)('%s: renders the API, workers, autoscalers, budgets, policies and monitors', (o) => {
    const kinds = new Set(rendered[o].map((x) => x.kind));
    for (const k of ['Namespace', 'ConfigMap', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'ScaledObject', 'PodDisruptionBudget', 'NetworkPolicy', 'ServiceMonitor']) {
      expect(kinds.has(k), k).toBe(true);
    }
    expect(workers(o)).toHaveLength(1);
    // One namespace for everything, which the KEDA query names too.
    expect(new Set(rendered[o].filter((x) => x.kind !== 'Namespace').map((x) => x.metadata.namespace))).toEqual(new Set(['spotter']));
  });

  it.each(OVERLAYS)('%s: every object is valid against the Kubernetes, KEDA and prometheus-operator schemas', (o) => {
    expect(rendered[o].filter((x) => !knownKind(x)).map((x) => `${x.apiVersion} ${x.kind}`)).toEqual([]);
    expect(rendered[o].flatMap((x) => schemaErrors(x).map((e) => `${x.kind}/${x.metadata.name}: ${e}`))).toEqual([]);
  });

  it('has no unknown (misspelt or misplaced) field in any overlay', () => {
    expect(unknownFields(OVERLAYS.flatMap((o) => rendered[o]))).toEqual([]);
  });

  it('catches a wrong type and an unknown field (the two checks above can fail)', () => {
    const d = structuredClone(api('production'));
    d.spec.replicas = 'two';
    expect(schemaErrors(d).join()).toMatch(/replicas must be integer/);
    const typo = structuredClone(named(rendered.dev, 'ScaledObject', 'spotter-worker'));
    typo.spec.minReplicaCont = 0;
    expect(unknownFields([typo]).join()).toMatch(/minReplicaCont/);
  });

  it.each(OVERLAYS)('%s: selectors, ports and references connect', (o) => {
    const objs = rendered[o];
    const pods = deployments(o).map((d) => ({ d, labels: d.spec.template.metadata.labels as Record<string, string> }));
    for (const { d, labels } of pods) expect(selects(d.spec.selector.matchLabels, labels), d.metadata.name).toBe(true);
    for (const svc of ofKind(objs, 'Service')) {
      const backing = pods.filter((p) => selects(svc.spec.selector, p.labels));
      expect(backing.length, svc.metadata.name).toBeGreaterThan(0);
      for (const port of svc.spec.ports) {
        for (const p of backing) expect(containersOf(p.d).some((c) => containerPort(c, port.targetPort)), `${svc.metadata.name} -> ${port.targetPort}`).toBe(true);
      }
    }
    for (const x of [...ofKind(objs, 'PodDisruptionBudget'), ...ofKind(objs, 'NetworkPolicy')]) {
      const sel = x.kind === 'NetworkPolicy' ? x.spec.podSelector.matchLabels : x.spec.selector.matchLabels;
      expect(pods.filter((p) => selects(sel, p.labels)).length, `${x.kind}/${x.metadata.name}`).toBeGreaterThan(0);
    }
    for (const sm of ofKind(objs, 'ServiceMonitor')) {
      const svcs = ofKind(objs, 'Service').filter((s) => selects(sm.spec.selector.matchLabels, s.metadata.labels));
      expect(svcs.length, sm.metadata.name).toBeGreaterThan(0);
      for (const ep of sm.spec.endpoints) for (const s of svcs) expect(s.spec.ports.map((p: { name: string }) => p.name)).toContain(ep.port);
    }
    // Each Deployment has at most one autoscaler, and each autoscaler a Deployment.
    const targets = [...ofKind(objs, 'HorizontalPodAutoscaler'), ...ofKind(objs, 'ScaledObject')].map((a) => a.spec.scaleTargetRef.name as string);
    for (const t of targets) named(objs, 'Deployment', t);
    expect(new Set(targets).size).toBe(targets.length);
    expect(new Set(targets)).toEqual(new Set(deployments(o).map((d) => d.metadata.name)));
    // A replica count in the manifest would reset the autoscaler's at every apply.
    for (const d of deployments(o)) expect(d.spec.replicas, d.metadata.name).toBeUndefined();
    for (const d of deployments(o)) for (const c of containersOf(d)) for (const f of c.envFrom ?? []) named(objs, 'ConfigMap', f.configMapRef!.name);
  });

  it.each(OVERLAYS)('%s: sets only variables Spotter reads, and each container\'s environment parses', (o) => {
    const known = new Set(Object.keys(EnvSchema.shape));
    for (const d of deployments(o)) {
      for (const c of containersOf(d)) {
        const env = envOf(o, c);
        expect(Object.keys(env).filter((k) => !known.has(k)), `${d.metadata.name}`).toEqual([]);
        const cfg = loadConfig(env);
        expect(cfg.storage.kind).toBe('s3');
        expect(cfg.redis.url).toMatch(/^rediss?:\/\//);
        if (component(d) === 'api') {
          // Reachable from other pods, on the port the probes and the Service use.
          expect(cfg.http.host).toBe('0.0.0.0');
          expect(cfg.http.port).toBe(containerPort(c, 'http'));
          expect(cfg.http.apiKeys.length).toBeGreaterThan(0);
        } else {
          expect(cfg.worker.host).toBe('0.0.0.0');
          expect(cfg.worker.port).toBe(containerPort(c, 'metrics'));
        }
        expect(cfg.webhooks.secret).toBeDefined();
      }
    }
  });

  it('gives the dev Secret every key a container or ServiceMonitor needs', () => {
    const secret = named(rendered.dev, 'Secret', 'spotter-secrets');
    const needed = [
      ...deployments('dev').flatMap((d) => containersOf(d).flatMap((c) => (c.env ?? []).map((e) => e.valueFrom?.secretKeyRef).filter((r) => r && !r.optional))),
      ...ofKind(rendered.dev, 'ServiceMonitor').flatMap((sm) => sm.spec.endpoints.map((e: { authorization?: { credentials: { name: string; key: string } } }) => e.authorization?.credentials)),
    ].filter(Boolean) as { name: string; key: string }[];
    expect(needed.length).toBeGreaterThan(2);
    for (const ref of needed) {
      expect(ref.name).toBe('spotter-secrets');
      expect(Object.keys(secret.data!), ref.key).toContain(ref.key);
    }
  });

  it('documents every Secret key production needs in the kubectl create secret command', async () => {
    const docs = await readFile(path.join(root, 'docs/deploying.md'), 'utf8');
    const command = /kubectl -n spotter create secret generic spotter-secrets[^`]*/.exec(docs)?.[0] ?? '';
    const documented = [...command.matchAll(/--from-literal=(\w+)=/g)].map((m) => m[1]);
    for (const o of ['production', 'gpu'] as const) {
      expect(rendered[o].some((x) => x.kind === 'Secret'), 'production keeps its Secret out of Git').toBe(false);
      for (const d of deployments(o)) {
        for (const c of containersOf(d)) {
          for (const e of c.env ?? []) {
            const ref = e.valueFrom?.secretKeyRef;
            if (ref && !ref.optional) expect(documented, `${d.metadata.name} ${e.name}`).toContain(ref.key);
          }
        }
      }
    }
  });

  it.each(OVERLAYS)('%s: gives workers the time to finish their jobs after SIGTERM', (o) => {
    for (const d of workers(o)) {
      const env = envOf(o, containersOf(d)[0]!);
      const jobTimeoutS = Number(env.SPOTTER_JOB_TIMEOUT_S ?? 60);
      expect(d.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(jobTimeoutS + 30);
    }
    // The API's longest request is a /v1/predict waiting for its job.
    const cfg = loadConfig(envOf(o, containersOf(api(o))[0]!));
    expect(api(o).spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(cfg.http.predictTimeoutMs / 1000);
  });

  it.each(OVERLAYS)('%s: sizes each container with requests below limits', (o) => {
    for (const d of deployments(o)) {
      for (const c of containersOf(d)) {
        const { requests = {}, limits = {} } = c.resources ?? {};
        for (const r of ['cpu', 'memory']) {
          expect(requests[r], `${d.metadata.name} ${r} request`).toBeDefined();
          expect(limits[r], `${d.metadata.name} ${r} limit`).toBeDefined();
        }
        const mi = (q: string | number) => {
          const m = /^(\d+)(Mi|Gi)$/.exec(String(q));
          if (!m) throw new Error(`unexpected quantity ${q}`);
          return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
        };
        expect(mi(requests.memory!)).toBeLessThanOrEqual(mi(limits.memory!));
        // Above the measured peak RSS (compiled, the images' NODE_OPTIONS: API 184 MB under
        // ingest, worker 312 MB; bench/results/footprint.md).
        expect(mi(requests.memory!) * 1.048576, d.metadata.name).toBeGreaterThan(component(d) === 'api' ? 184 : 312);
      }
    }
  });

  it.each(OVERLAYS)(`%s: scales workers on the backlog with a per-replica target of slots x ${JOBS_PER_SLOT} jobs`, (o) => {
    for (const so of ofKind(rendered[o], 'ScaledObject')) {
      const target = named(rendered[o], 'Deployment', so.spec.scaleTargetRef.name);
      const concurrency = loadConfig(envOf(o, containersOf(target)[0]!)).worker.concurrency;
      expect(so.spec.triggers).toHaveLength(1);
      const [trigger] = so.spec.triggers;
      expect(trigger.type).toBe('prometheus');
      expect(Number(trigger.metadata.threshold)).toBe(concurrency * JOBS_PER_SLOT);
      // The query selects this namespace, and the metrics it reads are the API's.
      for (const s of selectorsOf(trigger.metadata.query)) {
        expect(s.matchers).toContainEqual({ label: 'namespace', op: '=', value: so.metadata.namespace });
      }
      expect(trigger.metadata.query).not.toMatch(/\bsum\s*\(/);
    }
  });

  it('lets dev workers scale to zero and keeps production and GPU pools warm', () => {
    expect(named(rendered.dev, 'ScaledObject', 'spotter-worker').spec.minReplicaCount).toBe(0);
    for (const o of ['production', 'gpu'] as const) {
      for (const so of ofKind(rendered[o], 'ScaledObject')) expect(so.spec.minReplicaCount, o).toBeGreaterThanOrEqual(2);
      expect(named(rendered[o], 'HorizontalPodAutoscaler', 'spotter-api').spec.minReplicas).toBeGreaterThanOrEqual(2);
    }
  });

  it('runs the GPU overlay\'s workers on a GPU, with the CUDA provider first and the GPU image', () => {
    const [gpu] = workers('gpu');
    expect(gpu!.metadata.name).toBe('spotter-worker-gpu');
    const spec = gpu!.spec.template.spec;
    const c = containersOf(gpu!)[0]!;
    expect(Number(c.resources!.limits!['nvidia.com/gpu'])).toBe(1);
    expect(spec.tolerations).toContainEqual(expect.objectContaining({ key: 'nvidia.com/gpu', effect: 'NoSchedule' }));
    expect(Object.keys(spec.nodeSelector ?? {}).length).toBeGreaterThan(0);
    expect(loadConfig(envOf('gpu', c)).model.executionProviders).toEqual(['cuda', 'cpu']);
    expect(c.image).toBe(`${containersOf(workers('production')[0]!)[0]!.image}-gpu`);
    expect(named(rendered.gpu, 'ScaledObject', 'spotter-worker').spec.scaleTargetRef.name).toBe('spotter-worker-gpu');
    for (const o of ['dev', 'production'] as const) {
      expect(JSON.stringify(rendered[o]), o).not.toContain('nvidia.com/gpu');
      expect(loadConfig(envOf(o, containersOf(workers(o)[0]!)[0]!)).model.executionProviders).toEqual(['cpu']);
    }
  });

  it.each(OVERLAYS)('%s: pins every image to the release, never latest', (o) => {
    for (const d of deployments(o)) {
      for (const c of containersOf(d)) expect(c.image, d.metadata.name).toMatch(new RegExp(`^[\\w./-]+:${version.replaceAll('.', '\\.')}(-[a-z0-9]+)?$`));
    }
  });

  it('runs each image\'s own compiled entry point (its Dockerfile target\'s CMD), like docker compose', async () => {
    for (const o of OVERLAYS) {
      for (const [d, image] of [[api(o), 'spotter-api'], [workers(o)[0]!, 'spotter-worker']] as const) {
        const c = containersOf(d)[0]!;
        expect(c.image, d.metadata.name).toMatch(new RegExp(`^${image}:`));
        // No command: the image's CMD (node dist/main.js, checked by test/docker-compose.test.ts) runs.
        expect(c.command, d.metadata.name).toBeUndefined();
        expect(c.args, d.metadata.name).toBeUndefined();
      }
    }
    const files = (await readdir(KUSTOMIZE_DIR, { recursive: true })).filter((f) => f.endsWith('.yaml'));
    const texts = await Promise.all(files.map((f) => readFile(path.join(KUSTOMIZE_DIR, f), 'utf8')));
    for (const t of texts) expect(t).not.toMatch(/--import|tsx|src\/main\.ts/);
  });

  it.each(OVERLAYS)('%s: lets only Prometheus reach the workers, on their metrics port only', (o) => {
    const policies = ofKind(rendered[o], 'NetworkPolicy');
    for (const d of deployments(o)) {
      const mine = policies.filter((p) => selects(p.spec.podSelector.matchLabels, d.spec.template.metadata.labels));
      expect(mine.length, `${d.metadata.name} has a NetworkPolicy`).toBeGreaterThan(0);
      for (const p of mine) {
        expect(p.spec.policyTypes).toContain('Ingress');
        for (const rule of p.spec.ingress) {
          const ports = rule.ports.map((x: { port: string | number }) => containerPort(containersOf(d)[0]!, x.port));
          expect(ports.every(Boolean), `${p.metadata.name} names a port the pod has`).toBe(true);
          if (component(d) !== 'worker') continue;
          expect(ports).toEqual([containerPort(containersOf(d)[0]!, 'metrics')]);
          expect(rule.from?.length, 'worker ingress is never open to all').toBeGreaterThan(0);
          for (const peer of rule.from) {
            expect(peer.namespaceSelector?.matchLabels).toBeDefined();
            expect(peer.podSelector?.matchLabels?.['app.kubernetes.io/name']).toBe('prometheus');
          }
        }
      }
    }
  });

  describe('against a running API and worker', () => {
    let spotter: Spotter;
    let workerBase: string;
    const TOKEN = 'deploy-test-metrics-token';

    beforeAll(async () => {
      spotter = await startSpotter({
        SPOTTER_API_KEYS: 'deploy-test-key',
        SPOTTER_METRICS_TOKEN: TOKEN,
        SPOTTER_WEBHOOK_SECRET: 'deploy-test-webhook-secret',
      });
      workerBase = `http://127.0.0.1:${/metrics on port (\d+)/.exec(spotter.workers[0]!.output())![1]}`;
    });
    afterAll(() => spotter?.stop());

    it.each(OVERLAYS)('%s: every probe and ServiceMonitor path answers 200 on the process it checks', async (o) => {
      const base = (d: K8sObject) => (component(d) === 'api' ? spotter.url : workerBase);
      let probes = 0;
      for (const d of deployments(o)) {
        for (const c of containersOf(d)) {
          for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
            expect(probe?.httpGet, `${d.metadata.name}: HTTP probes`).toBeDefined();
            expect(containerPort(c, probe!.httpGet!.port)).toBeDefined();
            const res = await fetch(`${base(d)}${probe!.httpGet!.path}`);
            expect(res.status, `${d.metadata.name} ${probe!.httpGet!.path}`).toBe(200);
            probes++;
          }
        }
        for (const sm of ofKind(rendered[o], 'ServiceMonitor').filter((s) => s.metadata.labels?.['app.kubernetes.io/component'] === component(d))) {
          for (const ep of sm.spec.endpoints) {
            const res = await fetch(`${base(d)}${ep.path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
            expect(res.status).toBe(200);
            expect(await res.text()).toMatch(/^# HELP /m);
          }
        }
      }
      expect(probes).toBe(3 * deployments(o).length);
      // A path that does not exist is not 200: the check above can fail.
      expect((await fetch(`${workerBase}/ready`)).status).toBe(404);
      expect((await fetch(`${spotter.url}/ready`)).status).toBe(404);
    });

    it('exports the series the KEDA query reads, with the labels it selects', async () => {
      const samples = parsePrometheus(await (await fetch(`${spotter.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text());
      const so = named(rendered.production, 'ScaledObject', 'spotter-worker');
      const selectors = selectorsOf(so.spec.triggers[0].metadata.query);
      // Backlog and jobs in hand, of the realtime queue and of the batch queue.
      expect([...new Set(selectors.map((s) => s.name))].sort()).toEqual(['spotter_queue_backlog', 'spotter_queue_jobs']);
      expect([...new Set(selectors.map((s) => s.matchers.find((m) => m.label === 'queue')?.value))].sort()).toEqual(['detect', 'detect-batch']);
      for (const s of selectors) {
        // `namespace` is a target label that the ServiceMonitor's scrape adds, not the exporter.
        const own = s.matchers.filter((m) => m.label !== 'namespace');
        expect(own.every((m) => m.op === '='), 'plain equality matchers').toBe(true);
        expect(samples.filter((x) => x.name === s.name && own.every((m) => x.labels[m.label] === m.value)), s.name).toHaveLength(1);
      }
    });

    it('serves /metrics only with the token the ServiceMonitors send', async () => {
      for (const base of [spotter.url, workerBase]) {
        expect((await fetch(`${base}/metrics`)).status, base).toBe(401);
        expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, base).toBe(401);
        expect((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, base).toBe(200);
      }
    });

    it('counts waiting, prioritized and delayed jobs in the backlog the workers scale on', async () => {
      // No worker takes the jobs while we look.
      await spotter.stopWorker(spotter.workers[0]!);
      const connection = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
      const queue = new Queue('detect', { connection, prefix: `{${spotter.env.SPOTTER_QUEUE_PREFIX}}` });
      try {
        await queue.add('detect', { probe: 'waiting' });
        await queue.add('detect', { probe: 'prioritized' }, { priority: 5 });
        await queue.add('detect', { probe: 'delayed' }, { delay: 600_000 });
        const samples = parsePrometheus(await (await fetch(`${spotter.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text());
        expect(valueOf(samples, 'spotter_queue_jobs', { queue: 'detect', state: 'waiting' })).toBe(1);
        expect(valueOf(samples, 'spotter_queue_backlog', { queue: 'detect' })).toBe(3);
        expect(valueOf(samples, 'spotter_queue_backlog', { queue: 'webhooks' })).toBe(0);
      } finally {
        await queue.obliterate({ force: true });
        await queue.close();
        connection.disconnect();
      }
    });
  });
});
