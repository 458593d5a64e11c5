import { isFinal, isRetryable, sampledFrames, WebhookDeliveryError, VideoRecord, videoLinks, type VideoEvent, type VideoView, type VideoWebhookJobData, type WebhookState } from '@spotter/shared';
import { storageKeys, type ObjectStorage } from '@spotter/storage';
import type { StoredVideo, VideoStore, WebhookStore } from '@spotter/stores';
import { sendSignedWebhook, type DeliveryPolicy } from '@spotter/webhooks';

/** A video's record in storage, read and checked. */
export async function loadVideoRecord(storage: ObjectStorage, id: string): Promise<VideoRecord | null> {
  const bytes = /^[0-9a-f-]{36}$/.test(id) ? await storage.get(storageKeys.video(id, 'video.json')) : null;
  return bytes ? VideoRecord.parse(JSON.parse(bytes.toString('utf8'))) : null;
}

/** The video as GET /v1/videos/{id} answers it (and its webhook carries it, without `webhook`). */
export function videoView(record: VideoRecord, s: StoredVideo, publicUrl?: string, webhook: WebhookState | null = null): VideoView {
  const total = sampledFrames(record.video.duration_s, record.options.fps, record.video.frames);
  const final = isFinal(s.status);
  return {
    id: record.id,
    status: s.status,
    model: record.model,
    created_at: record.created_at,
    started_at: s.started_at,
    finished_at: s.finished_at,
    source: record.source,
    video: record.video,
    options: record.options,
    progress: {
      frames_done: s.frames_done,
      frames_total: final && s.summary ? s.summary.frames : total,
      segments_done: s.segments_done,
      segments_running: final ? 0 : Math.max(0, s.segments_started - s.segments_done),
      segments_total: s.segments_total,
      share: final ? 1 : Math.min(1, s.frames_done / Math.max(1, total)),
    },
    summary: s.summary,
    error: s.error,
    links: videoLinks(record.id, publicUrl),
    webhook,
  };
}

/** The event a final video status announces. */
export const videoEventOf = (status: 'succeeded' | 'failed' | 'cancelled'): VideoEvent => `video.${status}`;

/**
 * One delivery attempt of a video's final event (the video as GET answers it), signed like
 * job events, each attempt recorded for GET's `webhook`; throws to have the queue retry.
 */
export async function deliverVideoWebhook(
  deps: { storage: ObjectStorage; videos: VideoStore; webhooks: WebhookStore; policy: DeliveryPolicy; publicUrl: string | undefined },
  data: VideoWebhookJobData,
  lastAttempt: boolean,
): Promise<number> {
  const record = await loadVideoRecord(deps.storage, data.video_id);
  const stored = await deps.videos.get(data.video_id);
  if (!record?.webhook_url || !stored) return 0;
  const url = record.webhook_url;
  const body = JSON.stringify({ event: data.event, video: videoView(record, stored, deps.publicUrl) });
  const at = new Date().toISOString();
  try {
    const status = await sendSignedWebhook(deps.policy, url, body, `${record.id}.${data.event}`);
    await deps.webhooks.record(record.id, url, 'delivered', { at, status_code: status, error: null });
    return status;
  } catch (err) {
    const giveUp = lastAttempt || !isRetryable(err);
    const statusCode = err instanceof WebhookDeliveryError ? err.statusCode : null;
    await deps.webhooks.record(record.id, url, giveUp ? 'failed' : 'pending', { at, status_code: statusCode, error: (err as Error).message });
    throw err;
  }
}

