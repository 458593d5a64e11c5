import type { EvalReportFile } from './eval-report.js';

/** How much AP a candidate may lose on a protected slice when neither manifest says (absolute AP). */
export const DEFAULT_GATE_TOLERANCE = 0.01;

/** One side of the comparison: a model, its registered evaluation report and what its manifest protects. */
export interface GateSide {
  name: string;
  /** The manifest's `eval_report` path, or null. */
  reportFile: string | null;
  report: EvalReportFile | null;
  /** The registry's problem with the model (its eval_report unreadable, its file missing), or null. */
  problem?: string | null | undefined;
  important_tags: readonly string[];
  gate_tolerance?: number | undefined;
}

export interface GateRow {
  slice: string;
  live: number | null;
  candidate: number | null;
  diff: number | null;
  /** ok, worse (beyond the tolerance), missing (a report or the candidate's slice is absent), not_measured (neither report measures it). */
  status: 'ok' | 'worse' | 'missing' | 'not_measured';
}

export type PromotionGate = ReturnType<typeof promotionGate>;

const round = (v: number) => Math.round(v * 10000) / 10000;
// COCO marks what it cannot measure (no object of that size) with -1.
const measured = (v: number | undefined) => (typeof v === 'number' && v >= 0 ? v : null);

/**
 * The promotion gate: the candidate's evaluation report against the live model's on the
 * protected slices, overall AP, rare classes, small objects and every tag either manifest
 * declares important. Refuses when the candidate is worse than live by more than the
 * tolerance (the smaller of the two manifests' `gate_tolerance`) on any of them, when the
 * reports were made on different data, or when the live model has a report and the candidate
 * has none (an unevaluated candidate in a deployment that evaluates), and whenever either
 * model has a problem (a report named but unreadable is never taken as no report). Without a
 * live report there is nothing to compare with: allowed, with a warning.
 */
export function promotionGate(live: GateSide, candidate: GateSide) {
  const tolerance = Math.min(live.gate_tolerance ?? DEFAULT_GATE_TOLERANCE, candidate.gate_tolerance ?? DEFAULT_GATE_TOLERANCE);
  const tags = [...new Set([...live.important_tags, ...candidate.important_tags])].sort();
  const sliceAp = (r: EvalReportFile, match: (name: string) => boolean) => r.slices?.find((s) => match(s.slice))?.ap;
  const protectedSlices: { slice: string; read: (r: EvalReportFile) => number | undefined }[] = [
    { slice: 'overall (AP)', read: (r) => r.metrics?.AP },
    { slice: 'classes: rare (AP)', read: (r) => sliceAp(r, (s) => s.startsWith('classes: rare')) },
    { slice: 'size: small (AP)', read: (r) => sliceAp(r, (s) => s === 'size: small') },
    ...tags.map((tag) => ({ slice: `tag: ${tag} (AP)`, read: (r: EvalReportFile) => sliceAp(r, (s) => s === `tag: ${tag}`) })),
  ];
  const reasons: string[] = [];
  const warnings: string[] = [];
  const both = live.report !== null && candidate.report !== null;
  if (live.problem || candidate.problem) {
    for (const side of [live, candidate]) if (side.problem) reasons.push(`"${side.name}" is unavailable: ${side.problem}`);
  } else if (!live.report && !candidate.report) warnings.push('neither model has an evaluation report: the promotion is not gated');
  else if (!candidate.report) reasons.push(`"${candidate.name}" has no evaluation report while the live model "${live.name}" has one: evaluate it on the same data (spotter eval) and register the report as its eval_report`);
  else if (!live.report) warnings.push(`the live model "${live.name}" has no evaluation report: nothing to compare "${candidate.name}" with`);
  else {
    const a = live.report.dataset;
    const b = candidate.report.dataset;
    if (a?.name !== b?.name || a?.images !== b?.images) {
      reasons.push(`the reports were made on different data (${a?.name ?? '?'}, ${a?.images ?? '?'} images vs ${b?.name ?? '?'}, ${b?.images ?? '?'} images): evaluate both on the same dataset`);
    }
  }
  const rows: GateRow[] = protectedSlices.map(({ slice, read }) => {
    const l = live.report ? measured(read(live.report)) : null;
    const c = candidate.report ? measured(read(candidate.report)) : null;
    if (!both) return { slice, live: l, candidate: c, diff: null, status: 'missing' };
    if (l === null && c === null) {
      warnings.push(`${slice} is measured in neither report`);
      return { slice, live: null, candidate: null, diff: null, status: 'not_measured' };
    }
    if (c === null) {
      reasons.push(`${slice}: measured for the live model (${l}) but not in the candidate's report`);
      return { slice, live: l, candidate: null, diff: null, status: 'missing' };
    }
    if (l === null) {
      warnings.push(`${slice}: not measured for the live model; the candidate has ${c}`);
      return { slice, live: null, candidate: c, diff: null, status: 'not_measured' };
    }
    const diff = round(c - l);
    const worse = c < l - tolerance - 1e-9;
    if (worse) reasons.push(`${slice}: ${c} vs live ${l} (${diff}, tolerance ${tolerance})`);
    return { slice, live: l, candidate: c, diff, status: worse ? 'worse' : 'ok' };
  });
  return {
    passed: reasons.length === 0,
    tolerance,
    live: { model: live.name, report: live.reportFile },
    candidate: { model: candidate.name, report: candidate.reportFile },
    rows,
    reasons,
    warnings,
  };
}
