import { describe, expect, it } from 'vitest';
import { driftReport } from './drift-report.js';
import type { Observation } from './image-metrics.js';
import { METRIC_BY_NAME } from './metric-catalog.js';
import { addObservation, emptyProfile, type Profile } from './profile.js';
import { interpolatedQuantile, serviceHealth, shareAbove } from './service-health.js';

const OBJECTIVES = { queueP95S: 1, latencyP95S: 2, failureRatio: 0.05 };

/** The same 60 images (inputs and answers), served with the given timings and failures. */
function traffic(timing: (i: number) => { queue: number; latency: number }, failed = (_i: number) => false): Profile {
  let p = emptyProfile();
  for (let i = 0; i < 60; i++) {
    const { queue, latency } = timing(i);
    const obs: Observation = {
      width: 640 + (i % 7) * 10,
      height: 480,
      brightness: 80 + (i % 13) * 5,
      detections_025: i % 5,
      score: [0.3 + (i % 6) / 10],
      class: [i % 4],
      failed: String(failed(i)),
      queue_seconds: queue,
      latency_seconds: latency,
    };
    p = addObservation(p, obs);
  }
  return p;
}
const reference = (profile: Profile) => ({ id: 'ref', model: 'm', created_at: '', source: { images: 'x' }, profile, chunks: [] });

describe('service health', () => {
  it('keeps a busy machine out of the model report: the same traffic ten times slower is a service alarm, not drift', () => {
    const calm = traffic((i) => ({ queue: 0.002 + i * 1e-4, latency: 0.03 + i * 1e-3 }));
    const busy = traffic((i) => ({ queue: 0.5 + i * 0.05, latency: 1 + i * 0.05 }));
    const report = driftReport(reference(calm), busy, { minSamples: 30 });
    expect(report.status).toBe('ok');
    expect(report.metrics.map((m) => m.name)).not.toContain('queue_seconds');
    expect(report.metrics.filter((m) => m.status === 'warn' || m.status === 'alarm')).toEqual([]);

    const health = serviceHealth(busy, OBJECTIVES, 30);
    const queue = health.metrics.find((m) => m.name === 'queue_seconds')!;
    expect(queue.status).toBe('alarm');
    expect(queue.value).toBeGreaterThan(1);
    expect(health.status).toBe('alarm');
    expect(serviceHealth(calm, OBJECTIVES, 30)).toMatchObject({ status: 'ok' });
  });

  it('warns at half the error budget’s pace and alarms at all of it', () => {
    // 60 jobs: k of them over the 1 s queue objective (5 % of 60 = 3 allowed).
    const withSlow = (k: number) => serviceHealth(traffic((i) => ({ queue: i < k ? 4 : 0.1, latency: 0.2 })), OBJECTIVES, 30).metrics[0]!;
    expect(withSlow(0)).toMatchObject({ status: 'ok', burn_rate: 0 });
    expect(withSlow(1)).toMatchObject({ status: 'ok' });
    expect(withSlow(2)).toMatchObject({ status: 'warn' });
    expect(withSlow(4)).toMatchObject({ status: 'alarm' });
    expect(withSlow(4).burn_rate).toBeCloseTo(4 / 60 / 0.05, 2);
  });

  it('judges failures against their share and says insufficient_data below the minimum sample', () => {
    const failing = serviceHealth(traffic(() => ({ queue: 0.1, latency: 0.2 }), (i) => i % 10 === 0), OBJECTIVES, 30);
    expect(failing.metrics[2]).toMatchObject({ name: 'failed', objective: 'failure_ratio', value: 0.1, status: 'alarm', samples: 60 });
    expect(serviceHealth(traffic(() => ({ queue: 9, latency: 9 })), OBJECTIVES, 100)).toMatchObject({ status: 'insufficient_data' });
  });

  it('interpolates the quantile and the share above a target consistently on the geometric bins', () => {
    const metric = METRIC_BY_NAME.get('queue_seconds')!;
    if (metric.type !== 'numeric') throw new Error('numeric expected');
    const p = traffic((i) => ({ queue: 0.01 * 1.1 ** i, latency: 1 }));
    const counts = p.bins.queue_seconds!;
    const p95 = interpolatedQuantile(counts, metric.edges, 0.95);
    expect(shareAbove(counts, metric.edges, p95)).toBeCloseTo(0.05, 9);
    expect(shareAbove(counts, metric.edges, p95 * 0.9)).toBeGreaterThan(0.05);
    expect(shareAbove(counts, metric.edges, p95 * 1.1)).toBeLessThan(0.05);
    // The true p95 of these values is 0.01·1.1^56.05; the bins hold it within one bin's width (×1.4).
    const truth = 0.01 * 1.1 ** 56.05;
    expect(p95 / truth).toBeGreaterThan(1 / 1.4);
    expect(p95 / truth).toBeLessThan(1.4);
  });
});
