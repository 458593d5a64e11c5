/**
 * Every Redis key Spotter uses, with its lifetime, in one place.
 *
 * Redis Cluster: a deployment's job keys share BullMQ's hash tag `{prefix}`, so the
 * scripts that read a queue's lists and a job's keys together touch one slot. Monitoring
 * keys (written once per job, the heaviest traffic after BullMQ's) carry a second tag,
 * `{prefix:mon}`, and so may live on another shard. No command spans the two.
 */
export function redisKeys(prefix: string) {
  const q = `{${prefix}}`;
  const mon = `{${prefix}:mon}`;
  return {
    /** BullMQ's prefix: every queue key is `{prefix}:<queue>:...`. */
    bullPrefix: q,
    /** BullMQ's own lists that admission counts (named by BullMQ; do not change). */
    queueWait: (queue: string) => `${q}:${queue}:wait`,
    queuePaused: (queue: string) => `${q}:${queue}:paused`,

    /** HASH: a job's read model and, once final, its record. Until final: 7 days; then SPOTTER_JOB_RETENTION_S. */
    job: (id: string) => `${q}:job:${id}`,
    /** ZSET (score: creation ms x 1000 + tie-break) of an owner's jobs, newest last; trimmed to the retention. */
    ownerJobs: (owner: string) => `${q}:jobs:${owner}`,
    /** SET of an owner's jobs not final yet (per-key concurrency limit). */
    ownerActive: (owner: string) => `${q}:active:${owner}`,
    /** ZSET of admissions between the backlog check and the enqueue (score: expiry ms). */
    admissions: `${q}:admissions`,
    /** STRING: the job was erased; late writers (a worker still running it, a webhook attempt) must not bring it back. 7 days. */
    erased: (id: string) => `${q}:erased:${id}`,
    /** HASH: a batch's counts (total, running, succeeded, failed, cancelled), status and times; the job retention once final. */
    batch: (id: string) => `${q}:batch:${id}`,
    /** HASH: a video's status, times, progress counters, summary or error; the job retention once final. */
    video: (id: string) => `${q}:video:${id}`,
    /** STRING job id per Idempotency-Key; 24 hours. */
    idempotency: (owner: string, keyHash: string) => `${q}:idem:${owner}:${keyHash}`,
    /** STRING: the GCRA "theoretical arrival time" of an owner's requests; expires when idle. */
    rate: (owner: string) => `${q}:rate:${owner}`,
    /** HASH {url, state} and LIST of attempts of a job's webhook; 7 days. */
    webhook: (id: string) => `${q}:webhook:${id}`,
    webhookAttempts: (id: string) => `${q}:webhook:${id}:attempts`,

    /** STRING (JSON): the rollout state; no expiry. */
    rollout: `${q}:rollout`,
    /** LIST (JSON): rollout events, newest first, last 200. */
    rolloutHistory: `${q}:rollout:history`,
    /** STRING counter choosing every Nth job for the shadow. */
    shadowCounter: `${q}:rollout:shadow-counter`,
    /** HASH of agreement counters of a shadow candidate; reset when a rollout starts. */
    shadowStats: (candidate: string) => `${q}:rollout:shadow:${candidate}`,
    /** HASH {jobs, failed} per model since the rollout started; reset when one starts. */
    modelStats: (model: string) => `${q}:rollout:model:${model}`,

    /** HASH: one monitoring bucket's profile of a model; SPOTTER_MONITOR_RETENTION_DAYS. */
    profileBucket: (model: string, bucket: number) => `${mon}:profile:${model}:${bucket}`,
    /**
     * HASH: the same bucket's slice-keyed fields (per class, per size), apart so that each hash
     * stays under Redis' listpack limit (512 fields) in moderate traffic; same retention.
     */
    profileSlices: (model: string, bucket: number) => `${mon}:profile-slices:${model}:${bucket}`,
    /**
     * ZSET: a model's labelling candidates of one hour (member: the job's compact entry, JSON;
     * score: a number drawn from the job id, so the LABEL_CANDIDATES_PER_HOUR kept are a uniform
     * sample); the image retention plus an hour, at most the monitoring retention.
     */
    labelCandidates: (model: string, hour: number) => `${mon}:label:${model}:${hour}`,
    /** ZSET: how far shadow candidates disagreed with the live model on that hour's jobs; same sample, same lifetime. */
    labelDisagreements: (model: string, hour: number) => `${mon}:label-shadow:${model}:${hour}`,
    /** ZSET of per-image F1 from feedback, in arrival order; last 5000. */
    f1Stream: (model: string) => `${mon}:f1:${model}`,
    /** STRING marker: feedback was recorded for this job; monitoring retention. */
    feedbackOnce: (id: string) => `${mon}:feedback:${id}`,
    /** STRING (JSON) reference profile; no expiry. */
    reference: (id: string) => `${mon}:ref:${id}`,
    activeReference: (model: string) => `${mon}:ref-active:${model}`,
    references: (model: string) => `${mon}:refs:${model}`,
    /** STRING (JSON): the last periodic drift report, for the gauges; 5 evaluation periods. */
    lastReport: `${mon}:last-report`,
    /** HASH metric -> alarm state (JSON). */
    alarmState: `${mon}:alarm-state`,
    /** LIST (JSON): alarm openings and clearings, newest first, last 1000. */
    alarmHistory: `${mon}:alarms`,
    /** HASH: the scheduled evaluation's last run, last success, its error and failures in a row. */
    alarmEvaluation: `${mon}:alarm-evaluation`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;

/** Lifetimes in seconds that are not configuration. */
export const TTL = {
  /** A job hash before it is final: long enough for any backlog, short enough to clean up after itself. */
  jobPendingS: 7 * 24 * 3600,
  idempotencyS: 24 * 3600,
  webhookS: 7 * 24 * 3600,
  /** An admission reservation outlives the request that made it by at most this. */
  admissionMs: 30_000,
};

/** Labelling candidates kept per model and hour (about 150 bytes each). */
export const LABEL_CANDIDATES_PER_HOUR = 500;
