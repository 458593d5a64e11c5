import { performance } from 'node:perf_hooks';
import { decodeToFit } from '@spotter/imaging';
import { imageObservation, type Observation } from '@spotter/monitoring';
import { succeededRecord, type DetectJobData, type JobRecord } from '@spotter/shared';
import { recordSpan } from '@spotter/telemetry';
import type { ModelPool } from '../model-pool.js';

const ms = (v: number) => Math.round(v * 100) / 100;

/**
 * Stage 2: decode to the model's input and run it; the succeeded record with per-stage
 * timings, and how to observe the pixels already decoded for monitoring (no pixel leaves the
 * worker; the observation is made after the answer). `fetchedIn` is how long stage 1 took.
 */
export async function detectImage(
  models: ModelPool,
  data: DetectJobData,
  { bytes, format }: { bytes: Buffer; format: string },
  startedAt: string,
  fetchedIn: { start: number; end: number },
  maxPixels: number,
): Promise<{ record: JobRecord; observe: () => Observation }> {
  return models.use(data.model, async (detector) => {
    const t1 = performance.now();
    const img = await decodeToFit(bytes, detector.fit, maxPixels);
    const t2 = performance.now();
    // Batch images yield the inference thread to realtime jobs.
    const out = await detector.detect(img, data.min_score, data.batch ? 'low' : 'high');
    const t3 = performance.now();
    const finishedAt = new Date();
    // The stages as spans of the active (process) span, from the times measured above.
    const epoch = (t: number) => performance.timeOrigin + t;
    const decoded = t2 + out.timings.preprocess;
    const inference = decoded + out.timings.sessionWait;
    recordSpan('download', epoch(fetchedIn.start), epoch(fetchedIn.end), { 'spotter.image.bytes': bytes.length });
    recordSpan('decode', epoch(t1), epoch(decoded), { 'spotter.image.format': format });
    recordSpan('inference', epoch(inference), epoch(inference + out.timings.inference), { 'spotter.model.name': detector.name });
    recordSpan('postprocess', epoch(t3 - out.timings.postprocess), epoch(t3), { 'spotter.detections.count': out.detections.length });
    const created = Date.parse(data.created_at);
    const record = succeededRecord(data, {
      startedAt,
      finishedAt: finishedAt.toISOString(),
      timings: {
        queue: Math.max(0, Date.parse(startedAt) - created),
        download: ms(fetchedIn.end - fetchedIn.start),
        decode: ms(t2 - t1 + out.timings.preprocess),
        inference: ms(out.timings.inference),
        postprocess: ms(out.timings.postprocess),
        total: Math.max(0, finishedAt.getTime() - created),
      },
      result: {
        image: { width: img.width, height: img.height },
        model: { name: detector.name, version: detector.version },
        detections: out.detections,
      },
    });
    return { record, observe: () => imageObservation(img, bytes, format, out.detections) };
  });
}
