import { performance } from 'node:perf_hooks';
import { decodeToFit } from '@spotter/imaging';
import type { DetectOutput } from '@spotter/detector';
import { imageObservation, tensorObservation, type Observation } from '@spotter/monitoring';
import { succeededRecord, type DetectJobData, type JobRecord } from '@spotter/shared';
import { recordSpan } from '@spotter/telemetry';
import type { ModelPool } from '../model-pool.js';

const ms = (v: number) => Math.round(v * 100) / 100;

/** A tensor's stored bytes (float32, little-endian) as values, copied to an aligned buffer of their own. */
function tensorOf(bytes: Buffer): Float32Array {
  const values = new Float32Array(Math.floor(bytes.length / 4));
  new Uint8Array(values.buffer).set(bytes.subarray(0, values.length * 4));
  return values;
}

/**
 * Stage 2: decode to the model's input and run it (or run it on the job's pre-processed
 * tensor); the succeeded record with per-stage timings, the raw output when the job asks for
 * it, and how to observe the pixels already decoded for monitoring (no pixel leaves the
 * worker; the observation is made after the answer). `fetchedIn` is how long stage 1 took.
 */
export async function detectImage(
  models: ModelPool,
  data: DetectJobData,
  { bytes, format }: { bytes: Buffer; format: string },
  startedAt: string,
  fetchedIn: { start: number; end: number },
  maxPixels: number,
): Promise<{ record: JobRecord; observe: () => Observation; raw: DetectOutput['raw'] }> {
  return models.use(data.model, async (detector) => {
    // Batch images yield the inference thread to realtime jobs.
    const priority = data.batch ? 'low' : 'high';
    const opts = { raw: data.raw_output ?? false };
    const t1 = performance.now();
    let t2: number;
    let out: DetectOutput;
    let frame: { width: number; height: number };
    let observe: () => Observation;
    if (data.tensor) {
      const tensor = tensorOf(bytes);
      t2 = performance.now();
      const { shape, source } = data.tensor;
      out = await detector.detectTensor(tensor, shape, source, data.min_score, priority, opts);
      frame = source ?? detector.input;
      observe = () => tensorObservation(frame, Boolean(source), out.detections);
    } else {
      const img = await decodeToFit(bytes, detector.fit, maxPixels);
      t2 = performance.now();
      out = await detector.detect(img, data.min_score, priority, opts);
      frame = img;
      observe = () => imageObservation(img, bytes, format, out.detections);
    }
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
        image: { width: frame.width, height: frame.height },
        model: { name: detector.name, version: detector.version },
        detections: out.detections,
      },
    });
    return { record, observe, raw: out.raw };
  });
}
