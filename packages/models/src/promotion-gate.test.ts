import { describe, expect, it } from 'vitest';
import type { EvalReportFile } from './eval-report.js';
import { promotionGate, type GateSide } from './promotion-gate.js';

const report = (ap: number, small: number, rare: number, tags: Record<string, number> = {}, dataset = { name: 'coco-val128', images: 128 }): EvalReportFile => ({
  dataset,
  model: { name: 'm', version: 'abc' },
  metrics: { AP: ap, APs: small },
  slices: [
    { slice: 'size: small', ap: small },
    { slice: 'size: large', ap: 0.5 },
    { slice: 'classes: rare (least frequent third)', ap: rare },
    ...Object.entries(tags).map(([t, v]) => ({ slice: `tag: ${t}`, ap: v })),
  ],
});
const side = (name: string, r: EvalReportFile | null, extra: Partial<GateSide> = {}): GateSide => ({ name, reportFile: r ? `${name}/report.json` : null, report: r, important_tags: [], ...extra });

describe('promotion gate', () => {
  it('passes a candidate no worse than live on any protected slice, within the tolerance', () => {
    const g = promotionGate(side('live', report(0.3, 0.1, 0.2)), side('cand', report(0.295, 0.12, 0.2)));
    expect(g.passed).toBe(true);
    expect(g.rows.map((r) => [r.slice, r.status])).toEqual([
      ['overall (AP)', 'ok'],
      ['classes: rare (AP)', 'ok'],
      ['size: small (AP)', 'ok'],
    ]);
  });

  it('refuses a candidate worse on small objects, naming the slice and the numbers', () => {
    const g = promotionGate(side('live', report(0.3, 0.1, 0.2)), side('cand', report(0.3, 0.05, 0.2)));
    expect(g.passed).toBe(false);
    expect(g.reasons).toEqual(['size: small (AP): 0.05 vs live 0.1 (-0.05, tolerance 0.01)']);
    expect(g.rows.find((r) => r.slice === 'size: small (AP)')).toMatchObject({ live: 0.1, candidate: 0.05, diff: -0.05, status: 'worse' });
  });

  it('takes the stricter tolerance of the two manifests', () => {
    const live = report(0.3, 0.1, 0.2);
    const cand = report(0.28, 0.1, 0.2);
    expect(promotionGate(side('live', live, { gate_tolerance: 0.05 }), side('cand', cand)).passed).toBe(false);
    expect(promotionGate(side('live', live, { gate_tolerance: 0.05 }), side('cand', cand, { gate_tolerance: 0.03 })).passed).toBe(true);
  });

  it('protects the tags either manifest declares important, and refuses a candidate not evaluated on one', () => {
    const live = side('live', report(0.3, 0.1, 0.2, { night: 0.25 }), { important_tags: ['night'] });
    expect(promotionGate(live, side('cand', report(0.3, 0.1, 0.2, { night: 0.2 }))).reasons).toEqual(['tag: night (AP): 0.2 vs live 0.25 (-0.05, tolerance 0.01)']);
    expect(promotionGate(live, side('cand', report(0.3, 0.1, 0.2))).reasons[0]).toMatch(/^tag: night \(AP\): measured for the live model/);
    expect(promotionGate(side('live', report(0.3, 0.1, 0.2)), side('cand', report(0.3, 0.1, 0.2), { important_tags: ['rain'] })).warnings).toEqual(['tag: rain (AP) is measured in neither report']);
  });

  it('leaves what COCO cannot measure (-1, no small object) out of the verdict', () => {
    const g = promotionGate(side('live', report(0.3, -1, 0.2)), side('cand', report(0.3, -1, 0.2)));
    expect(g.passed).toBe(true);
    expect(g.rows.find((r) => r.slice === 'size: small (AP)')!.status).toBe('not_measured');
  });

  it('decides on missing reports: refuse an unevaluated candidate, allow with a warning when live has none', () => {
    const none = promotionGate(side('live', null), side('cand', null));
    expect(none).toMatchObject({ passed: true, warnings: ['neither model has an evaluation report: the promotion is not gated'] });
    expect(none.rows.every((r) => r.status === 'missing')).toBe(true);
    expect(promotionGate(side('live', report(0.3, 0.1, 0.2)), side('cand', null)).passed).toBe(false);
    const noLive = promotionGate(side('live', null), side('cand', report(0.3, 0.1, 0.2)));
    expect(noLive.passed).toBe(true);
    expect(noLive.warnings[0]).toMatch(/live model "live" has no evaluation report/);
  });

  it('refuses to compare reports made on different data', () => {
    const g = promotionGate(side('live', report(0.3, 0.1, 0.2)), side('cand', report(0.4, 0.2, 0.3, {}, { name: 'other', images: 50 })));
    expect(g.passed).toBe(false);
    expect(g.reasons[0]).toMatch(/different data/);
  });

  it('fails closed when either model has a problem: a report named but unreadable never reads as no report', () => {
    const broken = { problem: 'its eval_report eval/cand.json is not valid JSON (cut short?)' };
    const g = promotionGate(side('live', report(0.3, 0.1, 0.2)), side('cand', null, { reportFile: 'eval/cand.json', ...broken }));
    expect(g.passed).toBe(false);
    expect(g.reasons).toEqual(['"cand" is unavailable: its eval_report eval/cand.json is not valid JSON (cut short?)']);
    // Not "neither model has a report: not gated", which is what an unreadable pair used to read as.
    const both = promotionGate(side('live', null, broken), side('cand', null, broken));
    expect(both.passed).toBe(false);
    expect(both.warnings).toEqual([]);
    expect(both.reasons).toHaveLength(2);
  });
});
