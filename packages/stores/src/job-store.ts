import { DetectJobData, FinalBatchStatus, JobErasedError, JobRecord, JobStatus } from '@spotter/shared';
import { TTL, type RedisKeys } from './keys.js';
import { defineScript } from './lua.js';
import { redisCall, type RedisClient } from './redis-connection.js';

/** What the job store knows of one job. */
export interface StoredJob {
  data: DetectJobData;
  status: JobStatus;
  startedAt: string | null;
  /** The final record, once the job is final. */
  record: JobRecord | null;
  /** Times a worker computed an outcome for it (more than one: taken over after its result was computed). */
  computed: number;
}

export type Admission = { ok: true } | { ok: false; reason: 'OVERLOADED' | 'TOO_MANY_ACTIVE_JOBS'; count: number };

export interface JobSummary {
  id: string;
  status: JobStatus;
  model: string;
  created_at: string;
  finished_at: string | null;
  batch: string | null;
  detections: number | null;
  error: string | null;
}

const FINAL = `local function final(s) return s == 'succeeded' or s == 'failed' or s == 'cancelled' end`;

// Counts the waiting backlog exactly: BullMQ's wait and paused lists plus admissions in flight
// (checked but not yet enqueued), so concurrent API processes can never overshoot the cap.
const ADMIT = `${FINAL}
local job, ownerJobs, active, admissions, wait, paused = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id, data, nowMs, score = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local maxBacklog, maxActive = tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', admissions, '-inf', nowMs)
if maxBacklog > 0 then
  local n = redis.call('LLEN', wait) + redis.call('LLEN', paused) + redis.call('ZCARD', admissions)
  if n >= maxBacklog then return {'OVERLOADED', n} end
end
if maxActive > 0 and redis.call('SCARD', active) >= maxActive then
  -- Forget members that are final or gone before refusing (their hashes share this slot).
  for _, other in ipairs(redis.call('SMEMBERS', active)) do
    local s = redis.call('HGET', string.sub(job, 1, -#id - 1) .. other, 'status')
    if not s or final(s) then redis.call('SREM', active, other) end
  end
  local n = redis.call('SCARD', active)
  if n >= maxActive then return {'TOO_MANY_ACTIVE_JOBS', n} end
end
redis.call('ZADD', admissions, nowMs + tonumber(ARGV[7]), id)
redis.call('HSET', job, 'data', data, 'status', 'queued')
redis.call('EXPIRE', job, tonumber(ARGV[8]))
redis.call('ZADD', ownerJobs, score, id)
redis.call('ZREMRANGEBYSCORE', ownerJobs, '-inf', (nowMs - tonumber(ARGV[9])) * 1000)
redis.call('SADD', active, id)
return {'OK', 0}`;

// Starts an attempt unless the job is already final (then its record is returned, so a
// takeover completes from it instead of running again). Restores a hash Redis lost.
const BEGIN = `${FINAL}
local job, ownerJobs, active, batch = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if redis.call('EXISTS', KEYS[5]) == 1 then return {'erased', false} end
local status = redis.call('HGET', job, 'status')
if status and final(status) then return {status, redis.call('HGET', job, 'record')} end
if not status then
  redis.call('HSET', job, 'data', ARGV[1])
  redis.call('EXPIRE', job, tonumber(ARGV[5]))
  redis.call('ZADD', ownerJobs, 'NX', ARGV[4], ARGV[3])
  if ARGV[6] == '' then redis.call('SADD', active, ARGV[3]) end
end
if ARGV[6] ~= '' and status ~= 'running' then
  redis.call('HINCRBY', batch, 'running', 1)
  redis.call('HSETNX', batch, 'started_at', ARGV[2])
  if redis.call('HGET', batch, 'status') == 'queued' then redis.call('HSET', batch, 'status', 'running') end
end
redis.call('HSET', job, 'status', 'running')
redis.call('HSETNX', job, 'started_at', ARGV[2])
return {'running', redis.call('HGET', job, 'started_at')}`;

// The one decision point of a job's end: the first final record wins; later ones get it back.
// A batch item's end is counted in its batch in the same step, so counts are exact whoever
// finishes it; the item that completes the batch decides the batch's final status.
const FINISH = `${FINAL}
local job, ownerJobs, active, batch = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if redis.call('EXISTS', KEYS[5]) == 1 then return {0, false, ''} end
if ARGV[7] == '1' then redis.call('HINCRBY', job, 'computed', 1) end
local status = redis.call('HGET', job, 'status')
if status and final(status) then return {0, redis.call('HGET', job, 'record'), ''} end
if not status then
  redis.call('HSET', job, 'data', ARGV[4])
  redis.call('ZADD', ownerJobs, 'NX', ARGV[6], ARGV[5])
end
redis.call('HSET', job, 'status', ARGV[2], 'record', ARGV[1])
redis.call('HDEL', job, 'outage_since')
redis.call('EXPIRE', job, tonumber(ARGV[3]))
redis.call('SREM', active, ARGV[5])
local batchDone = ''
if ARGV[8] ~= '' and redis.call('EXISTS', batch) == 1 then
  if status == 'running' then redis.call('HINCRBY', batch, 'running', -1) end
  redis.call('HINCRBY', batch, ARGV[2], 1)
  local b = redis.call('HMGET', batch, 'total', 'succeeded', 'failed', 'cancelled', 'status', 'cancel_requested')
  local done = (tonumber(b[2]) or 0) + (tonumber(b[3]) or 0) + (tonumber(b[4]) or 0)
  if done >= tonumber(b[1]) and not final(b[5]) then
    local outcome = 'succeeded'
    if b[6] then outcome = 'cancelled' elseif (tonumber(b[2]) or 0) == 0 then outcome = 'failed' end
    redis.call('HSET', batch, 'status', outcome, 'finished_at', ARGV[8])
    redis.call('EXPIRE', batch, tonumber(ARGV[3]))
    batchDone = outcome
  end
end
return {1, ARGV[1], batchDone}`;

const ABORT = `redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
return 1`;

let tieBreak = 0;

function toSummary([data, status, record]: (string | null)[]): JobSummary | null {
  if (!data || !status) return null;
  const d = DetectJobData.parse(JSON.parse(data));
  const job = record ? JobRecord.parse(JSON.parse(record)).job : null;
  return {
    id: d.id,
    status: JobStatus.parse(status),
    model: job?.model ?? d.model,
    created_at: d.created_at,
    finished_at: job?.finished_at ?? null,
    batch: d.batch?.id ?? null,
    detections: job?.result?.detections.length ?? null,
    error: job?.error?.code ?? null,
  };
}

/**
 * The job read model: status while queued or running, the final record once final (the
 * first final record wins, atomically), an index per owner for listing, and admission
 * against the waiting backlog and each owner's concurrency limit.
 */
export class JobStore {
  private readonly admitScript;
  private readonly beginScript;
  private readonly finishScript;
  private readonly abortScript;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly retentionS: number,
  ) {
    this.admitScript = defineScript<[string, number]>(redis, 'spotterAdmit', 6, ADMIT);
    this.beginScript = defineScript<[string, string | null]>(redis, 'spotterBegin', 5, BEGIN);
    this.finishScript = defineScript<[number, string | null, string]>(redis, 'spotterFinish', 5, FINISH);
    this.abortScript = defineScript(redis, 'spotterAbortAdmission', 4, ABORT);
  }

  private jobKeys(data: Pick<DetectJobData, 'id' | 'owner'>) {
    return [this.keys.job(data.id), this.keys.ownerJobs(data.owner), this.keys.ownerActive(data.owner)];
  }

  /** The job's keys plus its batch's (a placeholder in the same slot when it has none) and its erasure mark. */
  private keysWithBatch(data: DetectJobData) {
    return [...this.jobKeys(data), this.keys.batch(data.batch?.id ?? '-'), this.keys.erased(data.id)];
  }

  private score(data: DetectJobData) {
    return Date.parse(data.created_at) * 1000 + (tieBreak++ % 1000);
  }

  /**
   * Admits a job: refuses it when `queue`'s waiting backlog is at `maxBacklog` or its owner
   * has `maxActive` unfinished jobs (0 = no limit); otherwise records it as queued and
   * reserves its place until `admitted` (or the reservation expires).
   */
  admit(data: DetectJobData, queue: string, limits: { maxBacklog: number; maxActive: number }, now = Date.now()): Promise<Admission> {
    return redisCall(async () => {
      const [verdict, count] = await this.admitScript(
        [...this.jobKeys(data), this.keys.admissions, this.keys.queueWait(queue), this.keys.queuePaused(queue)],
        [data.id, JSON.stringify(data), now, this.score(data), limits.maxBacklog, limits.maxActive, TTL.admissionMs, TTL.jobPendingS, this.retentionS * 1000],
      );
      return verdict === 'OK' ? { ok: true } : { ok: false, reason: verdict as 'OVERLOADED' | 'TOO_MANY_ACTIVE_JOBS', count };
    });
  }

  /**
   * Records a batch's items as queued jobs (no backlog cap: batch work waits behind realtime
   * work anyway; not counted against the owner's concurrent-job limit).
   */
  admitBatchItems(items: DetectJobData[]): Promise<void> {
    return redisCall(async () => {
      for (let i = 0; i < items.length; i += 1000) {
        const pipe = this.redis.pipeline();
        for (const data of items.slice(i, i + 1000)) {
          pipe.hset(this.keys.job(data.id), 'data', JSON.stringify(data), 'status', 'queued').expire(this.keys.job(data.id), TTL.jobPendingS);
          pipe.zadd(this.keys.ownerJobs(data.owner), this.score(data), data.id);
        }
        await pipe.exec();
      }
    });
  }

  /** The records (or, while not final, the statuses) of many jobs, in order: null for jobs Redis forgot. */
  many(ids: string[]): Promise<(Pick<StoredJob, 'status' | 'record'> | null)[]> {
    return redisCall(async () => {
      const out: (Pick<StoredJob, 'status' | 'record'> | null)[] = [];
      for (let i = 0; i < ids.length; i += 500) {
        const pipe = this.redis.pipeline();
        for (const id of ids.slice(i, i + 500)) pipe.hmget(this.keys.job(id), 'status', 'record');
        for (const [, v] of (await pipe.exec()) ?? []) {
          const [status, record] = v as (string | null)[];
          out.push(status ? { status: JobStatus.parse(status), record: record ? JobRecord.parse(JSON.parse(record)) : null } : null);
        }
      }
      return out;
    });
  }

  /** The job is in the queue now: its reservation is no longer needed. */
  admitted(id: string): Promise<void> {
    return redisCall(async () => void (await this.redis.zrem(this.keys.admissions, id)));
  }

  /** Undoes an admission whose image or enqueue failed. */
  abortAdmission(data: DetectJobData): Promise<void> {
    return redisCall(async () => void (await this.abortScript([...this.jobKeys(data), this.keys.admissions], [data.id])));
  }

  /** Starts an attempt; returns the final record instead when the job already has one. Throws JobErasedError when it was erased. */
  begin(data: DetectJobData, startedAt: string): Promise<{ final: JobRecord } | { startedAt: string }> {
    return redisCall(async () => {
      const [status, value] = await this.beginScript(this.keysWithBatch(data), [JSON.stringify(data), startedAt, data.id, this.score(data), TTL.jobPendingS, data.batch ? '1' : '']);
      if (status === 'running') return { startedAt: value ?? startedAt };
      if (status === 'erased') throw new JobErasedError(data.id);
      return { final: JobRecord.parse(JSON.parse(value!)) };
    });
  }

  /**
   * Makes `record` the job's final record unless it already has one. Returns the record
   * that holds (`claimed` says whether it is this one). Idempotent. `computed` says the
   * record comes from new work (counted, to see work done twice), not from a repeat.
   * `batchDone` is the batch's final status when this job was its last item. Throws
   * JobErasedError when the job was erased meanwhile: nothing of it may be written again.
   */
  finish(data: DetectJobData, record: JobRecord, computed = true): Promise<{ claimed: boolean; record: JobRecord; batchDone: FinalBatchStatus | null }> {
    return redisCall(async () => {
      const [claimed, raw, batchDone] = await this.finishScript(this.keysWithBatch(data), [
        JSON.stringify(record),
        record.job.status,
        this.retentionS,
        JSON.stringify(data),
        data.id,
        this.score(data),
        computed ? 1 : 0,
        data.batch ? (record.job.finished_at ?? new Date().toISOString()) : '',
      ]);
      if (claimed !== 1 && !raw) throw new JobErasedError(data.id);
      const held = claimed === 1 ? record : JobRecord.parse(JSON.parse(raw!));
      return { claimed: claimed === 1, record: held, batchDone: batchDone ? FinalBatchStatus.parse(batchDone) : null };
    });
  }

  /** What is known of a job, or null when Redis has no trace of it. */
  get(id: string): Promise<StoredJob | null> {
    return redisCall(async () => {
      const h = await this.redis.hgetall(this.keys.job(id));
      if (!h.data || !h.status) return null;
      return {
        data: DetectJobData.parse(JSON.parse(h.data)),
        status: JobStatus.parse(h.status),
        startedAt: h.started_at ?? null,
        record: h.record ? JobRecord.parse(JSON.parse(h.record)) : null,
        computed: Number(h.computed ?? 0),
      };
    });
  }

  /** When the current storage outage began for this job (recorded on first call). */
  outageSince(id: string, now = Date.now()): Promise<number> {
    return redisCall(async () => {
      const key = this.keys.job(id);
      await this.redis.hsetnx(key, 'outage_since', now);
      return Number(await this.redis.hget(key, 'outage_since')) || now;
    });
  }

  /**
   * An owner's jobs, newest first, `limit` at a time. `cursor` is the last summary's
   * `cursor` of the previous page; filters apply to what the page reads.
   */
  list(owner: string, opts: { limit: number; cursor?: string | undefined; status?: JobStatus | undefined; batch?: string | undefined }) {
    return redisCall(async () => {
      const items: JobSummary[] = [];
      const page = opts.limit * 2;
      let last = opts.cursor ?? null;
      // Filters may skip entries: read up to five pages' worth before answering a short page.
      for (let round = 0; round < 5; round++) {
        const rows = await this.redis.zrevrangebyscore(this.keys.ownerJobs(owner), last ? `(${last}` : '+inf', '-inf', 'WITHSCORES', 'LIMIT', 0, page);
        const pipe = this.redis.pipeline();
        for (let i = 0; i < rows.length; i += 2) pipe.hmget(this.keys.job(rows[i]!), 'data', 'status', 'record');
        const hashes = (await pipe.exec()) ?? [];
        for (let i = 0; i < rows.length; i += 2) {
          if (items.length === opts.limit) return { items, next: last };
          last = rows[i + 1]!;
          const summary = toSummary((hashes[i / 2]?.[1] ?? []) as (string | null)[]);
          if (!summary || (opts.status && summary.status !== opts.status) || (opts.batch && summary.batch !== opts.batch)) continue;
          items.push(summary);
        }
        if (rows.length < 2 * page) return { items, next: null };
      }
      return { items, next: last };
    });
  }

  /** Whether the job was erased (its erasure mark is there): a late writer must not bring it back. */
  isErased(id: string): Promise<boolean> {
    return redisCall(async () => (await this.redis.exists(this.keys.erased(id))) === 1);
  }

  /** Forgets a job entirely (erasure), and marks it so that no late writer brings it back. */
  erase(data: Pick<DetectJobData, 'id' | 'owner'>): Promise<void> {
    return redisCall(async () => {
      await this.redis
        .multi()
        .set(this.keys.erased(data.id), '1', 'EX', TTL.jobPendingS)
        .del(this.keys.job(data.id), this.keys.webhook(data.id), this.keys.webhookAttempts(data.id))
        .zrem(this.keys.ownerJobs(data.owner), data.id)
        .srem(this.keys.ownerActive(data.owner), data.id)
        .exec();
    });
  }
}

