import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort, root } from '../../scripts/lib.mjs';
import { corruptPng } from '../support/images.js';
import { parsePrometheus, valueOf } from '../support/prometheus-text.js';
import { DATASET, getJson, postForm, startSpotter, type Spotter } from '../support/spotter.js';
import { until } from '../support/until.js';
import { have } from './manifests.js';

const PROM_DIR = path.join(root, 'deploy', 'prometheus');
const ALERTS = path.join(PROM_DIR, 'alerts.yml');
const ALERTS_TEST = path.join(PROM_DIR, 'alerts.test.yml');

interface Rule {
  alert: string;
  expr: string;
  for?: string;
}
interface RuleTest {
  name: string;
  alert_rule_test: { alertname: string; eval_time: string; exp_alerts: unknown[] }[];
}

/** Runs a tool to completion: exit code and combined output (never throws on a non-zero exit). */
function runTool(cmd: string, args: string[], cwd = root) {
  return new Promise<{ code: number; out: string }>((resolve) => {
    execFile(cmd, args, { cwd, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: number }).code ?? 1) || 1 : 0, out: `${stdout}${stderr}` });
    });
  });
}

const rulesOf = async () => (parse(await readFile(ALERTS, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

const hasPrometheus = have('prometheus') && have('promtool');
if (!hasPrometheus) console.warn('test/deploy/prometheus.test.ts skipped: prometheus/promtool not found (Debian: apt-get install prometheus; scripts/test.mjs does it as root)');

describe.skipIf(!hasPrometheus)('deploy/prometheus with promtool', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'spotter-promtool-'));
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('accepts prometheus.yml, its rule file pointed at the repository copy', async () => {
    const config = parse(await readFile(path.join(PROM_DIR, 'prometheus.yml'), 'utf8')) as { rule_files: string[] };
    // docker-compose mounts alerts.yml at the path prometheus.yml names.
    const compose = await readFile(path.join(root, 'docker-compose.yml'), 'utf8');
    for (const file of config.rule_files) expect(compose).toContain(`./deploy/prometheus/${path.basename(file)}:${file}:ro`);
    config.rule_files = config.rule_files.map((f) => path.join(PROM_DIR, path.basename(f)));
    const file = path.join(tmp, 'prometheus.yml');
    await writeFile(file, stringify(config));
    const { code, out } = await runTool('promtool', ['check', 'config', file]);
    expect(out).toContain(`SUCCESS: ${(await rulesOf()).length} rules found`);
    expect(code, out).toBe(0);
  });

  it('accepts alerts.yml', async () => {
    const { code, out } = await runTool('promtool', ['check', 'rules', ALERTS]);
    expect(code, out).toBe(0);
    expect(out).toMatch(new RegExp(`SUCCESS: ${(await rulesOf()).length} rules found`));
  });

  it('passes the alert unit tests (promtool test rules alerts.test.yml)', async () => {
    const { code, out } = await runTool('promtool', ['test', 'rules', ALERTS_TEST]);
    expect(code, out).toBe(0);
    expect(out).toMatch(/SUCCESS/);
  });

  it('tests every alert, firing and silent', async () => {
    const tests = (parse(await readFile(ALERTS_TEST, 'utf8')) as { tests: RuleTest[] }).tests.flatMap((t) => t.alert_rule_test);
    for (const rule of await rulesOf()) {
      const mine = tests.filter((t) => t.alertname === rule.alert);
      expect(mine.some((t) => t.exp_alerts.length > 0), `${rule.alert} fires in a test`).toBe(true);
      expect(mine.some((t) => t.exp_alerts.length === 0), `${rule.alert} stays silent in a test`).toBe(true);
    }
  });

  // Mutation testing of the unit tests: an alert whose condition is never true must fail a
  // firing case, and one that is always true must fail a silent case evaluated after its
  // `for:` (a silent case inside the pending period would pass either way).
  it('fails the unit tests when an alert never fires or always fires', async () => {
    const original = await readFile(ALERTS, 'utf8');
    for (const rule of await rulesOf()) {
      // Two promtool runs at a time: the machine has two cores.
      const mutants = [
        ['vector(1) > 2', /exp:\[\s*0:/],
        ['vector(1)', /exp:\[\],/],
      ] as const;
      await Promise.all(
        mutants.map(async ([mutant, expectFailed]) => {
          const dir = await mkdtemp(path.join(tmp, 'mutant-'));
          expect(original.split(`expr: ${rule.expr}\n`)).toHaveLength(2);
          await writeFile(path.join(dir, 'alerts.yml'), original.replace(`expr: ${rule.expr}\n`, `expr: ${mutant}\n`));
          await copyFile(ALERTS_TEST, path.join(dir, 'alerts.test.yml'));
          const { code, out } = await runTool('promtool', ['test', 'rules', path.join(dir, 'alerts.test.yml')]);
          expect(code, `${rule.alert} as "${mutant}" passed the unit tests`).not.toBe(0);
          // The failure is this alert's, and of the expected sort.
          const failures = out.split(/\n\s*name: /).filter((f) => f.includes(`alertname: ${rule.alert},`));
          expect(failures.some((f) => expectFailed.test(f)), `${rule.alert} as "${mutant}":\n${out}`).toBe(true);
        }),
      );
    }
  });
});

/** Prometheus' HTTP API: one instant query. */
async function query(base: string, expr: string) {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await res.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
}

/** The parts of an alert condition worth evaluating when it is (rightly) false: each side of `and`, without its threshold. */
function underlying(expr: string): string[] {
  return expr.split(/\s+and\s+/).map((part) => part.replace(/\s*(>=|<=|==|!=|>|<)\s*[0-9.e+-]+\s*$/, '').trim());
}

describe.skipIf(!hasPrometheus)('a real Prometheus scraping a running API and worker', () => {
  const KEY = 'prometheus-test-key';
  const TOKEN = 'prometheus-test-metrics-token';
  const auth = { authorization: `Bearer ${KEY}` };
  let spotter: Spotter;
  let prometheus: ChildProcess | undefined;
  let promExited: Promise<unknown>;
  let promLog = '';
  let promUrl: string;
  let dir: string;
  let hook: http.Server;
  let hookUrl: string;
  let workerUrl: string;
  let jobs: { api: string; worker: string };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-prometheus-'));
    hook = http.createServer((req, res) => res.writeHead(req.url === '/fail' ? 500 : 204).end());
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const hookHost = `127.0.0.1:${(hook.address() as AddressInfo).port}`;
    hookUrl = `http://${hookHost}`;
    spotter = await startSpotter({
      // An admin key: the test also freezes a monitoring reference.
      SPOTTER_ADMIN_KEYS: KEY,
      SPOTTER_METRICS_TOKEN: TOKEN,
      SPOTTER_WEBHOOK_SECRET: 'prometheus-test-webhook-secret',
      SPOTTER_WEBHOOK_ALLOW_HOSTS: hookHost,
      // One attempt, so that a failing receiver makes a delivery give up within the test.
      SPOTTER_WEBHOOK_ATTEMPTS: '1',
      // Drift evaluated every second over the last minute, so that the drift gauges exist.
      SPOTTER_MONITOR_BUCKET_S: '1',
      SPOTTER_MONITOR_EVAL_S: '1',
      SPOTTER_MONITOR_WINDOW_S: '60',
      SPOTTER_MONITOR_MIN_SAMPLES: '3',
    });
    const workerPort = /metrics on port (\d+)/.exec(spotter.workers[0]!.output())![1];
    workerUrl = `http://127.0.0.1:${workerPort}`;
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    // What the ServiceMonitors make of the pods: job = the Service's name, a namespace
    // target label (the KEDA query selects on it), the bearer token on every scrape.
    const serviceName = async (file: string) => (parse(await readFile(path.join(root, 'deploy/kubernetes/base', file), 'utf8')) as { metadata: { name: string } }).metadata.name;
    jobs = { api: await serviceName('api/service.yaml'), worker: await serviceName('worker/service.yaml') };
    const target = (job: string, address: string) => ({
      job_name: job,
      authorization: { type: 'Bearer', credentials: TOKEN },
      static_configs: [{ targets: [address], labels: { namespace: 'spotter' } }],
    });
    const config = {
      // A scrape reads Redis; 2 s leaves a busy machine time to answer (later scrapes retry anyway).
      global: { scrape_interval: '2s', scrape_timeout: '2s', evaluation_interval: '1s' },
      rule_files: [ALERTS],
      scrape_configs: [target(jobs.api, new URL(spotter.url).host), target(jobs.worker, `127.0.0.1:${workerPort}`)],
    };
    await writeFile(path.join(dir, 'prometheus.yml'), stringify(config));
    const child = spawn('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    prometheus = child;
    promExited = new Promise((r) => child.once('exit', r));
    child.stdout!.on('data', (c) => (promLog += c));
    child.stderr!.on('data', (c) => (promLog += c));
    await until(async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${promLog}`);
      return (await fetch(`${promUrl}/-/ready`).catch(() => null))?.ok || undefined;
    });
  });

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM');
      const killer = setTimeout(() => prometheus?.kill('SIGKILL'), 10_000);
      await promExited;
      clearTimeout(killer);
    }
    await spotter?.stop();
    hook?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('returns data for every query of the dashboard, the alerts, KEDA and the ServiceMonitors after real traffic', async () => {
    const images = (await readdir(path.join(DATASET, 'images'))).filter((f) => f.endsWith('.jpg')).sort();
    const image = (i: number) => readFile(path.join(DATASET, 'images', images[i % images.length]!));
    // Two rounds with scrapes in between, so that every counter has increased since
    // Prometheus first saw it (rate() of a series' first sample is nothing).
    const from = new Date(Date.now() - 1000).toISOString();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++) {
        const res = await postForm(`${spotter.url}/v1/predict`, await image(round * 4 + i), {}, auth);
        expect(res.status).toBe(200);
      }
      expect((await postForm(`${spotter.url}/v1/predict`, Buffer.from('not an image, just text\n'.repeat(4)), {}, auth)).status).toBe(415);
      const jobs = await Promise.all([
        postForm(`${spotter.url}/v1/jobs`, await corruptPng(), {}, auth),
        postForm(`${spotter.url}/v1/jobs`, await image(0), { webhook_url: `${hookUrl}/fail` }, auth),
        postForm(`${spotter.url}/v1/jobs`, await image(1), { webhook_url: `${hookUrl}/ok` }, auth),
      ]);
      for (const j of jobs) expect(j.status, JSON.stringify(j.body)).toBe(202);
      for (const j of jobs) await getJson(`${spotter.url}/v1/jobs/${j.body.id}?wait=30`, auth);
      // Wait until Prometheus holds what the worker counted, so that round 2 is an increase.
      const counted = async () => parsePrometheus(await (await fetch(`${workerUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text()).filter((x) => x.name === 'spotter_jobs_total').reduce((n, x) => n + x.value, 0);
      const want = await counted();
      await until(async () => {
        const r = await query(promUrl, 'sum(spotter_jobs_total)');
        return Number(r.data?.result[0]?.value[1]) >= want ? true : undefined;
      });
      if (round === 0) {
        // The served images become the drift reference; the second round is the window.
        const to = new Date(Date.now() + 1).toISOString();
        const ref = await fetch(`${spotter.url}/v1/monitoring/reference`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ from, to }) });
        expect(ref.status, await ref.clone().text()).toBe(201);
      }
    }
    // Webhook deliveries run after the job's final state.
    const gaveUp = async () => valueOf(parsePrometheus(await (await fetch(`${workerUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text()), 'spotter_webhook_deliveries_total', { outcome: 'gave_up' });
    await until(async () => ((await gaveUp()) === 2 ? true : undefined));

    const dashboard = JSON.parse(await readFile(path.join(root, 'deploy/grafana/dashboards/spotter.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const keda = parse(await readFile(path.join(root, 'deploy/kubernetes/base/worker/scaled-object.yaml'), 'utf8')) as { spec: { triggers: { metadata: { query: string } }[] } };
    const queries: { source: string; expr: string; alert?: boolean }[] = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ source: `dashboard "${p.title}"`, expr: t.expr }))),
      ...(await rulesOf()).map((r) => ({ source: `alert ${r.alert}`, expr: r.expr, alert: true })),
      ...keda.spec.triggers.map((t) => ({ source: 'KEDA ScaledObject', expr: t.metadata.query })),
      // The ServiceMonitors' jobs are up: every target scraped, with the token.
      ...Object.values(jobs).map((job) => ({ source: `ServiceMonitor ${job}`, expr: `up{job="${job}", namespace="spotter"} == 1` })),
    ];
    expect(queries.length).toBeGreaterThan(25);

    const finite = (r: Awaited<ReturnType<typeof query>>) => (r.data?.result ?? []).some((s) => Number.isFinite(Number(s.value[1])));
    // Scrapes and rule evaluations run every second: give the last traffic a few to land.
    const evaluate = () =>
      Promise.all(
        queries.map(async (q) => {
          const direct = await query(promUrl, q.expr);
          if (direct.status !== 'success') return { ...q, ok: false, why: `does not parse: ${direct.error}` };
          if (finite(direct)) return { ...q, ok: true, why: 'data' };
          // An alert whose condition is false returns nothing, rightly: then each quantity
          // it compares must have data.
          if (!q.alert) return { ...q, ok: false, why: `no data: ${JSON.stringify(direct.data?.result.map((x) => x.value[1]))}` };
          const parts = await Promise.all(underlying(q.expr).map(async (e) => ({ e, r: await query(promUrl, e) })));
          const empty = parts.filter((p) => !finite(p.r)).map((p) => p.e);
          return { ...q, ok: empty.length === 0, why: empty.length ? `no data for ${empty.join(' ; ')}` : 'condition false: compared series have data' };
        }),
      );
    const deadline = Date.now() + 20_000;
    let outcome = await evaluate();
    while (outcome.some((r) => !r.ok) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      outcome = await evaluate();
    }
    const failed = outcome.filter((r) => !r.ok).map((r) => `${r.source}: ${r.expr}: ${r.why}`);
    expect(failed, promLog).toEqual([]);
    console.info(outcome.map((r) => `${r.why.padEnd(40)} ${r.source}`).join('\n'));

    // The alert rules load and evaluate without error, and the give-ups above fire theirs
    // (it has no `for:`) at the next evaluation.
    type Loaded = { name: string; health: string; lastError?: string; state: string };
    const rules = async () =>
      ((await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: Loaded[] }[] } }).data.groups.flatMap((g) => g.rules);
    const loaded = await until(async () => {
      const now = await rules();
      return now.find((r) => r.name === 'SpotterWebhooksGivingUp')?.state === 'firing' ? now : undefined;
    });
    expect(loaded.map((r) => r.name).sort()).toEqual((await rulesOf()).map((r) => r.alert).sort());
    for (const r of loaded) expect(`${r.name}: ${r.health} ${r.lastError ?? ''}`.trim()).toBe(`${r.name}: ok`);
  });
});
