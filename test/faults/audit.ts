import { appendFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { JobFiles } from '@spotter/jobs';
import { isFinal } from '@spotter/shared';
import { createStorage } from '@spotter/storage';
import { verifyWebhook } from '@spotter/webhooks';
import { getJson } from '../support/spotter.js';
import { WEBHOOK_SECRET, type FaultStack } from './fault-stack.js';

/** Every figure the fault suite reports; the guarantees say lost, missing and mismatched stay 0. */
export interface Audit {
  accepted: number;
  final: number;
  /** Accepted and not final by the deadline. */
  lost: number;
  byStatus: Record<string, number>;
  byCode: Record<string, number>;
  /** Jobs whose outcome was computed more than once (at-least-once allows it; counted). */
  processedTwice: number;
  /**
   * Webhooks are at least once: a delivery in flight when its worker dies is made again
   * (`duplicates`), always under the same `webhook-id`, so a receiver can drop the repeat
   * (`differentIds` counts jobs whose deliveries did not share one).
   */
  webhooks: { delivered: number; duplicates: number; differentIds: number; missing: number; unsigned: number };
  /** GET, the stored record and the webhook body disagree. */
  mismatched: number;
  /** Seconds from the first fault to the last job final. */
  recoveryS: number;
}

/** The job as its record holds it: without what a view derives (links, webhook attempts, whether the image is still held). */
const strip = (view: Record<string, unknown>) => {
  const { links: _l, webhook: _w, image: _i, ...core } = view;
  return core;
};

/** What an audit reads: the API, the configuration (storage), the webhook receiver and the stores. */
export type AuditTarget = Pick<FaultStack, 'url' | 'config' | 'receiver' | 'stores'>;

/**
 * Waits (up to `timeoutMs`) for every accepted job to be final, its record stored and its
 * webhook delivered, then checks that GET, the record and the webhook tell the same story.
 */
export async function auditJobs(stack: AuditTarget, ids: string[], opts: { timeoutMs: number; faultAt?: number; headers?: Record<string, string>; webhooks?: boolean }): Promise<Audit> {
  const files = new JobFiles(await createStorage(stack.config.storage));
  const deadline = Date.now() + opts.timeoutMs;
  const views = new Map<string, Record<string, unknown> & { status: string }>();
  const delivered = (id: string) => stack.receiver.deliveries.filter((d) => d.status === 200 && String(d.headers['spotter-event-id']).startsWith(`${id}.`));
  let lastFinal = 0;
  while (Date.now() < deadline) {
    for (const id of ids) {
      if (views.has(id)) continue;
      const res = await getJson(`${stack.url}/v1/jobs/${id}`, opts.headers).catch(() => null);
      if (res?.status === 200 && isFinal(res.body.status)) {
        views.set(id, res.body);
        lastFinal = Date.now();
      }
    }
    const settled =
      views.size === ids.length &&
      (opts.webhooks === false || ids.every((id) => delivered(id).length > 0)) &&
      (await Promise.all(ids.map((id) => files.loadResult(id).catch(() => null)))).every(Boolean);
    if (settled) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  // Late duplicates would arrive within a retry or two.
  await new Promise((r) => setTimeout(r, 1000));
  const audit: Audit = {
    accepted: ids.length,
    final: views.size,
    lost: ids.length - views.size,
    byStatus: {},
    byCode: {},
    processedTwice: 0,
    webhooks: { delivered: 0, duplicates: 0, differentIds: 0, missing: 0, unsigned: 0 },
    mismatched: 0,
    recoveryS: opts.faultAt ? Math.round((lastFinal - opts.faultAt) / 100) / 10 : 0,
  };
  for (const id of ids) {
    const view = views.get(id);
    if (!view) continue;
    audit.byStatus[view.status] = (audit.byStatus[view.status] ?? 0) + 1;
    const code = (view.error as { code?: string } | null)?.code;
    if (code) audit.byCode[code] = (audit.byCode[code] ?? 0) + 1;
    if (((await stack.stores.jobs.get(id).catch(() => null))?.computed ?? 0) > 1) audit.processedTwice++;
    const record = await files.loadResult(id).catch(() => null);
    if (!record || !isDeepStrictEqual(record.job, strip(view))) audit.mismatched++;
    if (opts.webhooks === false) continue;
    const got = delivered(id);
    if (got.length === 0) {
      audit.webhooks.missing++;
      continue;
    }
    audit.webhooks.delivered++;
    audit.webhooks.duplicates += got.length - 1;
    if (new Set(got.map((d) => d.headers['webhook-id'])).size > 1) audit.webhooks.differentIds++;
    for (const d of got) {
      if (!verifyWebhook(WEBHOOK_SECRET, String(d.headers['spotter-signature']), d.body)) audit.webhooks.unsigned++;
      if (!isDeepStrictEqual(strip(JSON.parse(d.body).job), strip(view))) audit.mismatched++;
    }
  }
  return audit;
}

/** Prints a scenario's figures, and appends them to the chaos report when one is being written. */
export async function report(scenario: string, figures: object) {
  const line = JSON.stringify({ scenario, ...figures });
  console.log(`[fault figures] ${line}`);
  if (process.env.SPOTTER_CHAOS_REPORT) await appendFile(process.env.SPOTTER_CHAOS_REPORT, `${line}\n`);
}

/** Sizes: small enough for `npm test`, large for `npm run chaos` (SPOTTER_CHAOS=1). */
export const CHAOS = process.env.SPOTTER_CHAOS === '1';
