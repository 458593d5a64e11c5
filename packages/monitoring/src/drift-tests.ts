import { chi2Sf, erfc, kolmogorovSf } from './special-functions.js';

/** A two-sample test on binned data: counts per bin of the reference and of the window. */
export interface TestResult {
  test: 'ks' | 'chi_square' | 'z_test' | 'psi' | 'jensen_shannon' | 'wasserstein';
  score: number;
  /** For hypothesis tests; null for distances. */
  pValue: number | null;
}

const total = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * Two-sample Kolmogorov-Smirnov on samples given as counts over the same ordered bins:
 * D = max |CDF_ref - CDF_cur|, p from the asymptotic Kolmogorov distribution with
 * n_eff = n·m/(n+m) (scipy's ks_2samp(method="asymp") uses the exact finite-n form instead).
 */
export function ksTest(ref: readonly number[], cur: readonly number[]): TestResult {
  const n = total(ref);
  const m = total(cur);
  let a = 0;
  let b = 0;
  let d = 0;
  for (let i = 0; i < ref.length; i++) {
    a += ref[i]! / n;
    b += cur[i]! / m;
    d = Math.max(d, Math.abs(a - b));
  }
  const en = (n * m) / (n + m);
  return { test: 'ks', score: d, pValue: kolmogorovSf(Math.sqrt(en) * d) };
}

/** Chi-square test of homogeneity on a 2 x k contingency table (scipy.stats.chi2_contingency, k > 2). */
export function chiSquareTest(ref: readonly number[], cur: readonly number[]): TestResult {
  const cols = ref.map((r, i) => [r, cur[i]!] as const).filter(([r, c]) => r + c > 0);
  const n = total(ref);
  const m = total(cur);
  const all = n + m;
  let stat = 0;
  for (const [r, c] of cols) {
    const col = r + c;
    const er = (col * n) / all;
    const ec = (col * m) / all;
    stat += (r - er) ** 2 / er + (c - ec) ** 2 / ec;
  }
  const df = cols.length - 1;
  return { test: 'chi_square', score: stat, pValue: df > 0 ? chi2Sf(stat, df) : 1 };
}

/** Two-proportion z-test on a binary feature (counts of "true"). */
export function proportionZTest(refTrue: number, refN: number, curTrue: number, curN: number): TestResult {
  const p = (refTrue + curTrue) / (refN + curN);
  const se = Math.sqrt(p * (1 - p) * (1 / refN + 1 / curN));
  const z = se === 0 ? 0 : (refTrue / refN - curTrue / curN) / se;
  return { test: 'z_test', score: Math.abs(z), pValue: erfc(Math.abs(z) / Math.SQRT2) };
}

const proportions = (xs: readonly number[]) => {
  const t = total(xs);
  return xs.map((x) => (t ? x / t : 0));
};

/** Population stability index, empty bins floored at 1e-4 (Evidently's convention). */
export function psi(ref: readonly number[], cur: readonly number[]): TestResult {
  const p = proportions(ref).map((v) => Math.max(v, 1e-4));
  const q = proportions(cur).map((v) => Math.max(v, 1e-4));
  return { test: 'psi', score: p.reduce((s, pi, i) => s + (pi - q[i]!) * Math.log(pi / q[i]!), 0), pValue: null };
}

/** Jensen-Shannon distance with natural log (scipy.spatial.distance.jensenshannon; max ~0.83). */
export function jensenShannon(ref: readonly number[], cur: readonly number[]): TestResult {
  const p = proportions(ref);
  const q = proportions(cur);
  const kl = (a: number[], mid: number[]) => a.reduce((s, ai, i) => (ai > 0 ? s + ai * Math.log(ai / mid[i]!) : s), 0);
  const mid = p.map((pi, i) => (pi + q[i]!) / 2);
  return { test: 'jensen_shannon', score: Math.sqrt(Math.max(0, (kl(p, mid) + kl(q, mid)) / 2)), pValue: null };
}

/**
 * Wasserstein-1 distance between two weighted samples on the same points (bin centres),
 * divided by the reference's standard deviation (floored at 0.001), Evidently's rule.
 */
export function wassersteinNormalized(centres: readonly number[], ref: readonly number[], cur: readonly number[]): TestResult {
  const p = proportions(ref);
  const q = proportions(cur);
  let cdfDiff = 0;
  let dist = 0;
  for (let i = 0; i < centres.length - 1; i++) {
    cdfDiff += p[i]! - q[i]!;
    dist += Math.abs(cdfDiff) * (centres[i + 1]! - centres[i]!);
  }
  const mean = p.reduce((s, pi, i) => s + pi * centres[i]!, 0);
  const std = Math.sqrt(p.reduce((s, pi, i) => s + pi * (centres[i]! - mean) ** 2, 0));
  return { test: 'wasserstein', score: dist / Math.max(std, 0.001), pValue: null };
}

/** Benjamini-Hochberg adjusted p-values (same order as given). */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const n = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array<number>(n);
  let min = 1;
  for (let k = n - 1; k >= 0; k--) {
    const [p, i] = order[k]!;
    min = Math.min(min, (p * n) / (k + 1));
    adjusted[i] = min;
  }
  return adjusted;
}
