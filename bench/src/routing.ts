/**
 * `npm run bench -- --routing`: how many jobs one Redis routes, and what one job costs it.
 *
 * The API side runs in this process with Spotter's own calls (the rollout read that routes a
 * job, JobStore.admit, JobQueue.enqueueDetect, JobStore.admitted, and a QueueEvents listener
 * as the API keeps for waiting requests); the worker side is 1, 2 or 4 no-op worker processes
 * (routing-worker.ts). Counts come from the server: INFO commandstats (commands run inside Lua
 * scripts included) and read events (requests that arrived; one per round trip when a client
 * waits for each answer). CPU comes from /proc.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '@spotter/config';
import { QueueNames, type DetectJobData } from '@spotter/shared';
import { createRedis, createStores, type Stores } from '@spotter/stores';
import { root } from '../../scripts/lib.mjs';
import { sampleProc } from './proc-stats.js';
import { table } from './report.js';
import { delta, redisCounters, SCRIPT_CALLS } from './redis-stats.js';

export interface RoutingOptions {
  seconds: number;
  processes: number[];
  /** Jobs each worker process holds at once. */
  concurrency: number;
  /** Submission loops in this process (API requests in flight). */
  producers: number;
  /** Jobs run one at a time for the per-job cost. */
  serialJobs: number;
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface WorkerProc {
  child: ChildProcess;
  count(): Promise<number>;
  stop(): Promise<void>;
}

async function startWorker(env: NodeJS.ProcessEnv): Promise<WorkerProc> {
  const child = fork(path.join(root, 'bench', 'src', 'routing-worker.ts'), [], { cwd: root, env, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = () => new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Record<string, unknown>));
    child.once('exit', (code) => reject(new Error(`routing worker exited with ${code}`)));
  });
  await next();
  return {
    child,
    count: async () => {
      const reply = next();
      child.send('count');
      return (await reply).finished as number;
    },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
}

/** The API's share of one job, with Spotter's calls: route, admit, enqueue, release the reservation. */
function submitter(stores: Stores, config: Config) {
  let n = 0;
  return async (): Promise<string> => {
    await stores.rollout.read(config.model.name);
    const id = randomUUID();
    const data: DetectJobData = {
      id,
      owner: `tenant-${n++ % 16}`,
      model: config.model.name,
      min_score: 0.25,
      webhook_url: null,
      created_at: new Date().toISOString(),
      shadow: null,
      image: { key: `images/${id}`, bytes: 150_000, format: 'jpeg', width: 640, height: 480 },
    };
    const admission = await stores.jobs.admit(data, QueueNames.detect, { maxBacklog: config.http.maxBacklog, maxActive: config.http.rateLimit.maxActiveJobs });
    if (!admission.ok) throw new Error(`admission refused: ${admission.reason}`);
    await stores.queue.enqueueDetect(data);
    await stores.jobs.admitted(id);
    return id;
  };
}

/** One deployment's worth of connections on a fresh prefix, as the API has them; `track` lets callers wait for given jobs. */
function apiSide(redisUrl: string, track = false) {
  const env = { REDIS_URL: redisUrl, SPOTTER_QUEUE_PREFIX: `r${randomBytes(3).toString('hex')}`, SPOTTER_MAX_BACKLOG: '1000000' };
  const config = loadConfig(env);
  const redis = createRedis(redisUrl, 'api');
  const blocking = createRedis(redisUrl, 'worker');
  const stores = createStores(redis, config);
  // A job can finish before its submitter has even released its reservation: remember ids nobody waits for yet.
  const waiting = new Map<string, () => void>();
  const early = new Set<string>();
  let events = 0;
  const listener = stores.queue.onDetectFinished(
    blocking,
    (id) => {
      events++;
      const resolve = waiting.get(id);
      if (resolve) resolve();
      else if (track) early.add(id);
    },
    () => undefined,
  );
  return {
    env,
    config,
    stores,
    /** Script names by SHA: Spotter's scripts and BullMQ's are all defined on this client (the queues share it). */
    scriptNames: () =>
      new Map(Object.entries((redis as unknown as { scriptsSet: Record<string, { sha: string }> }).scriptsSet).map(([name, script]) => [script.sha, name.replace(/-\d+$/, '')])),
    submit: submitter(stores, config),
    events: () => events,
    /** Resolves when the queue announces that `id` finished. */
    whenFinished: (id: string) =>
      early.delete(id)
        ? Promise.resolve()
        : new Promise<void>((r) =>
            waiting.set(id, () => {
              waiting.delete(id);
              r();
            }),
          ),
    ready: () => listener.waitUntilReady(),
    close: async () => {
      await listener.close();
      await stores.queue.close();
      redis.disconnect();
      blocking.disconnect();
    },
  };
}

/**
 * Per-job cost with one job in the system at a time (a request waits for its answer, as
 * POST /v1/predict does): commands by name, those sent by clients, and read events. Also one
 * job's commands in order, from MONITOR, to show where they come from.
 */
async function serialCost(redisUrl: string, jobs: number) {
  const api = apiSide(redisUrl, true);
  await api.ready();
  const inspect = new Redis(redisUrl);
  const worker = await startWorker({ ...process.env, ...api.env, ROUTING_CONCURRENCY: '2' });
  try {
    const one = async () => {
      const id = await api.submit();
      await api.whenFinished(id);
    };
    for (let i = 0; i < 20; i++) await one(); // scripts loaded, connections warm
    await sleep(200);
    const names = api.scriptNames();
    // Pass 1, nothing else on: counts, read events and execution times from INFO.
    const before = await redisCounters(inspect);
    const t0 = performance.now();
    for (let i = 0; i < jobs; i++) await one();
    const ms = performance.now() - t0;
    const d = delta(before, await redisCounters(inspect));
    // Pass 2, half as many jobs with the slow log taking every command (its bookkeeping slows
    // each one a little): which calls clients make, their median times, and the commands run
    // inside scripts (logged without a client address).
    const logged = Math.ceil(jobs / 2);
    await inspect.config('SET', 'slowlog-log-slower-than', '0');
    await inspect.config('SET', 'slowlog-max-len', '100000');
    await inspect.slowlog('RESET');
    for (let i = 0; i < logged; i++) await one();
    const entries = (await inspect.slowlog('GET', -1)) as [number, number, number, string[], string][];
    await inspect.config('SET', 'slowlog-log-slower-than', '10000');
    await inspect.config('SET', 'slowlog-max-len', '128');
    const own = entries.filter((e) => !['slowlog', 'config', 'info'].includes(e[3][0]!.toLowerCase()));
    const exec = executionTime(own, names, logged);
    const inner = own.filter((e) => e[4] === '?:0').length / logged;
    // Execution time from pass 1. A script's time includes its commands, so a command counts
    // only for the share of its calls that came from clients (as pass 2 saw them).
    const seen = new Map<string, { clients: number; all: number }>();
    for (const e of own) {
      const c = seen.get(e[3][0]!.toLowerCase()) ?? { clients: 0, all: 0 };
      c.all++;
      if (e[4] !== '?:0') c.clients++;
      seen.set(e[3][0]!.toLowerCase(), c);
    }
    const executionUs = [...seen].reduce((a, [cmd, c]) => a + ((d.usec[cmd] ?? 0) * c.clients) / c.all, 0) / jobs;
    // One job under MONITOR (slower, so not timed): every command with where it came from.
    const monitor = await new Redis(redisUrl).monitor();
    const trace: string[] = [];
    monitor.on('monitor', (_t: string, args: string[], source: string) =>
      trace.push(`${source === 'lua' ? '  lua' : 'client'} ${args[0]!.toUpperCase()} ${args[0] === 'evalsha' ? (names.get(args[1]!) ?? '?') : (args[1] ?? '').slice(0, 60)}`),
    );
    await sleep(100);
    trace.length = 0;
    await one();
    await sleep(100);
    monitor.disconnect();
    const scriptCalls = SCRIPT_CALLS.reduce((a, c) => a + (d.calls[c] ?? 0), 0);
    const perJob = (v: number) => round(v / jobs, 2);
    return {
      jobs,
      ms_per_job: round(ms / jobs, 2),
      commands_per_job: perJob(d.total),
      script_calls_per_job: perJob(scriptCalls),
      /** Commands that arrived from clients (a script call counts once) and commands run inside scripts. */
      client_commands_per_job: round(d.total / jobs - inner, 2),
      inside_scripts_per_job: round(inner, 2),
      round_trips_per_job: perJob(d.reads),
      /** Server time executing one job's commands (INFO commandstats; a script's time includes its commands). */
      execution_us_per_job: round(executionUs),
      /** The same by client call, each at its median in the slow log (preemption on a busy machine does not count, the slow log's own bookkeeping does). */
      median_execution_us_per_job: exec.perJob,
      execution_us_by_call: exec.byCall,
      by_command: Object.fromEntries(Object.entries(d.calls).sort((a, b) => b[1] - a[1]).map(([c, n]) => [c, perJob(n)])),
      trace,
    };
  } finally {
    await worker.stop();
    await api.close();
    inspect.disconnect();
  }
}

/** Per job: the sum over client calls (scripts by name) of their median execution time times their count. */
function executionTime(entries: [number, number, number, string[], string][], names: Map<string, string>, jobs: number) {
  const byCall = new Map<string, number[]>();
  for (const [, , us, args, client] of entries) {
    const cmd = args[0]!.toLowerCase();
    // Commands run by a script are logged too, with no client address: their time is in the script's.
    if (client === '?:0') continue;
    const call = cmd === 'evalsha' ? `evalsha ${names.get(args[1]!) ?? args[1]}` : cmd;
    (byCall.get(call) ?? byCall.set(call, []).get(call)!).push(us);
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  const rows = [...byCall].map(([call, v]) => ({ call, per_job: round(v.length / jobs, 2), median_us: median(v), us_per_job: round((median(v) * v.length) / jobs, 1) }));
  rows.sort((a, b) => b.us_per_job - a.us_per_job);
  return { perJob: round(rows.reduce((a, r) => a + r.us_per_job, 0)), byCall: rows };
}

/** Jobs per second with `processes` worker processes, the API side submitting as fast as it can (backlog kept under 5,000). */
async function saturation(redisUrl: string, redisPid: number, processes: number, opts: RoutingOptions) {
  const api = apiSide(redisUrl);
  await api.ready();
  const inspect = new Redis(redisUrl);
  const workers = await Promise.all(Array.from({ length: processes }, () => startWorker({ ...process.env, ...api.env, ROUTING_CONCURRENCY: String(opts.concurrency) })));
  let submitted = 0;
  let running = true;
  const loops = Array.from({ length: opts.producers }, async () => {
    while (running) {
      if (submitted - api.events() > 5000) {
        await sleep(2);
        continue;
      }
      submitted++;
      await api.submit();
    }
  });
  try {
    await sleep(2000);
    const sample = async () => ({
      at: performance.now(),
      finished: (await Promise.all(workers.map((w) => w.count()))).reduce((a, b) => a + b, 0),
      submitted,
      counters: await redisCounters(inspect),
      redisCpu: sampleProc(redisPid).cpuS,
      workerCpu: workers.reduce((a, w) => a + sampleProc(w.child.pid!).cpuS, 0),
      apiCpu: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
    });
    const a = await sample();
    await sleep(opts.seconds * 1000);
    const b = await sample();
    const s = (b.at - a.at) / 1000;
    const jobs = b.finished - a.finished;
    const d = delta(a.counters, b.counters);
    return {
      worker_processes: processes,
      concurrency_each: opts.concurrency,
      jobs_per_s: round(jobs / s),
      submitted_per_s: round((b.submitted - a.submitted) / s),
      redis_cpu_cores: round((b.redisCpu - a.redisCpu) / s, 2),
      worker_cpu_cores: round((b.workerCpu - a.workerCpu) / s, 2),
      api_side_cpu_cores: round((b.apiCpu - a.apiCpu) / s, 2),
      redis_cpu_us_per_job: round(((b.redisCpu - a.redisCpu) * 1e6) / jobs),
      commands_per_job: round(d.total / jobs),
      reads_per_job: round(d.reads / jobs),
      /** Other work on the machine during the run (shared machines): the 1-minute load average at its end. */
      load_avg_1m: round(os.loadavg()[0]!, 2),
    };
  } finally {
    running = false;
    await Promise.all(loops);
    await Promise.all(workers.map((w) => w.stop()));
    await api.close();
    await inspect.flushall();
    inspect.disconnect();
  }
}

/** The routing benchmark on a private Redis (`redisPid` is its process, for CPU). */
export async function measureRouting(redisUrl: string, redisPid: number, opts: RoutingOptions, say: (m: string) => void) {
  say(`routing: ${opts.serialJobs} jobs one at a time (per-job cost)`);
  const serial = await serialCost(redisUrl, opts.serialJobs);
  const runs = [];
  for (const p of opts.processes) {
    say(`routing: ${p} no-op worker process(es) x ${opts.concurrency} jobs, ${opts.producers} submitters, ${opts.seconds} s`);
    runs.push(await saturation(redisUrl, redisPid, p, opts));
  }
  return { serial, runs };
}

/**
 * For reference, the same counts for real jobs: the API and one worker process with the
 * model, POST /v1/predict at concurrency 4, with and without a webhook (a second queue job, its
 * delivery and its attempt record). Background work (stall checks, schedulers) is included.
 */
export async function realJobCost(redisUrl: string, redisPid: number, image: Buffer, jobs: number) {
  const { startStack } = await import('./stack.js');
  const http = await import('node:http');
  let delivered = 0;
  const receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      delivered++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hookPort = (receiver.address() as { port: number }).port;
  const inspect = new Redis(redisUrl);
  const out: Record<
    string,
    { jobs: number; commands_per_job: number; reads_per_job: number; redis_cpu_us_per_job: number; by_command: Record<string, number>; usec_per_job: Record<string, number> }
  > = {};
  try {
    for (const webhook of [false, true]) {
      const stack = await startStack(redisUrl, 1, { SPOTTER_WEBHOOK_SECRET: 'routing-bench-secret-0001', SPOTTER_WEBHOOK_ALLOW_HOSTS: `127.0.0.1:${hookPort}` });
      try {
        const post = async () => {
          const form = new FormData();
          form.append('image', new Blob([image]), 'bench.jpg');
          if (webhook) form.append('webhook_url', `http://127.0.0.1:${hookPort}/hook`);
          const res = await fetch(`${stack.url}/v1/predict`, { method: 'POST', body: form });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`predict answered ${res.status}`);
        };
        // The API listens before its Redis connection is ready (503 until then).
        for (let i = 0; i < 8; ) await post().then(() => i++, () => sleep(200));
        while (webhook && delivered < 8) await sleep(20);
        delivered = 0;
        await sleep(200);
        const before = await redisCounters(inspect);
        const cpuBefore = sampleProc(redisPid).cpuS;
        let next = 0;
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            while (next++ < jobs) await post();
          }),
        );
        while (webhook && delivered < jobs) await sleep(20);
        await sleep(200);
        const d = delta(before, await redisCounters(inspect));
        const top = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([c, n]) => [c, round(n / jobs, 2)]));
        out[webhook ? 'with_webhook' : 'without_webhook'] = {
          jobs,
          commands_per_job: round(d.total / jobs),
          reads_per_job: round(d.reads / jobs),
          redis_cpu_us_per_job: round(((sampleProc(redisPid).cpuS - cpuBefore) * 1e6) / jobs),
          by_command: top(d.calls),
          /** Execution µs per job by command (a script's includes its commands, which also appear under their own names). */
          usec_per_job: top(d.usec),
        };
      } finally {
        await stack.stop();
      }
    }
  } finally {
    inspect.disconnect();
    receiver.close();
  }
  return out;
}

type RoutingResult = Awaited<ReturnType<typeof measureRouting>> & { real: Awaited<ReturnType<typeof realJobCost>> };

/** The routing run as markdown. */
export function routingMarkdown(r: RoutingResult, machine: { cores: number; cpu: string | undefined }) {
  const s = r.serial;
  return [
    `## Routing ceiling of one Redis (${machine.cores} cores, ${machine.cpu}, Node ${process.version}, no-op processor)`,
    '',
    '### Per job, one job at a time',
    table(
      ['commands', 'sent by clients', 'inside Lua scripts', 'script calls', 'round trips (read events)', 'ms per job'],
      [[s.commands_per_job, s.client_commands_per_job, s.inside_scripts_per_job, s.script_calls_per_job, s.round_trips_per_job, s.ms_per_job]],
    ),
    '',
    `Server execution time per job: ${s.execution_us_per_job} µs (INFO commandstats; a script's time includes the commands it runs); ${s.median_execution_us_per_job} µs with each call at its median in SLOWLOG (taken with the slow log on, which adds its own bookkeeping to every command):`,
    '',
    table(['client call', 'per job', 'median µs', 'µs per job'], s.execution_us_by_call.map((r) => [r.call, r.per_job, r.median_us, r.us_per_job])),
    '',
    table(['command (inside scripts included)', 'per job'], Object.entries(s.by_command).map(([c, n]) => [c, n])),
    '',
    '### Throughput (the API side in one process, worker processes as given; all on this machine)',
    table(
      ['worker processes', 'jobs/s', 'submitted/s', 'Redis CPU (cores)', 'Redis CPU µs/job', 'workers CPU', 'API side CPU', 'commands/job', 'read events/job', 'load avg'],
      r.runs.map((x) => [x.worker_processes, x.jobs_per_s, x.submitted_per_s, x.redis_cpu_cores, x.redis_cpu_us_per_job, x.worker_cpu_cores, x.api_side_cpu_cores, x.commands_per_job, x.reads_per_job, x.load_avg_1m]),
    ),
    '',
    '### Real jobs for reference (API + 1 worker with the model, /v1/predict, concurrency 4)',
    table(
      ['', 'jobs', 'commands/job', 'read events/job', 'Redis CPU µs/job', 'top commands per job', 'top execution µs per job'],
      Object.entries(r.real).map(([k, v]) => [
        k,
        v.jobs,
        v.commands_per_job,
        v.reads_per_job,
        v.redis_cpu_us_per_job,
        Object.entries(v.by_command).slice(0, 6).map(([c, n]) => `${c} ${n}`).join(', '),
        Object.entries(v.usec_per_job).slice(0, 6).map(([c, n]) => `${c} ${n}`).join(', '),
      ]),
    ),
    '',
    '### One job, command by command (MONITOR)',
    '```',
    ...s.trace,
    '```',
  ];
}
