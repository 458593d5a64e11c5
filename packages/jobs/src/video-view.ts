import { sampledFrames, VideoRecord, videoLinks, type VideoEvent, type VideoView, type VideoWebhookJobData } from '@spotter/shared';
import { storageKeys, type ObjectStorage } from '@spotter/storage';
import type { StoredVideo, VideoStore } from '@spotter/stores';
import { sendSignedWebhook, type DeliveryPolicy } from '@spotter/webhooks';

/** A video's record in storage, read and checked. */
export async function loadVideoRecord(storage: ObjectStorage, id: string): Promise<VideoRecord | null> {
  const bytes = /^[0-9a-f-]{36}$/.test(id) ? await storage.get(storageKeys.video(id, 'video.json')) : null;
  return bytes ? VideoRecord.parse(JSON.parse(bytes.toString('utf8'))) : null;
}

/** The video as GET /v1/videos/{id} answers it (and its webhook carries it). */
export function videoView(record: VideoRecord, s: StoredVideo, publicUrl?: string): VideoView {
  const total = sampledFrames(record.video.duration_s, record.options.fps, record.video.frames);
  const final = s.status === 'succeeded' || s.status === 'failed' || s.status === 'cancelled';
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
      segments_running: 0,
      segments_total: s.segments_total,
      share: final ? 1 : Math.min(1, s.frames_done / Math.max(1, total)),
    },
    summary: s.summary,
    error: s.error,
    links: videoLinks(record.id, publicUrl),
    webhook: null,
  };
}

/** The event a final video status announces. */
export const videoEventOf = (status: 'succeeded' | 'failed' | 'cancelled'): VideoEvent => `video.${status}`;

/** One delivery attempt of a video's final event (the video as GET answers it), signed like job events; throws to have the queue retry. */
export async function deliverVideoWebhook(deps: { storage: ObjectStorage; videos: VideoStore; policy: DeliveryPolicy; publicUrl: string | undefined }, data: VideoWebhookJobData): Promise<number> {
  const record = await loadVideoRecord(deps.storage, data.video_id);
  const stored = await deps.videos.get(data.video_id);
  if (!record?.webhook_url || !stored) return 0;
  const body = JSON.stringify({ event: data.event, video: videoView(record, stored, deps.publicUrl) });
  return sendSignedWebhook(deps.policy, record.webhook_url, body, `${record.id}.${data.event}`);
}

