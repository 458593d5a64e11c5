import { describe, expect, it } from 'vitest';
import { benjaminiHochberg, chiSquareTest, jensenShannon, ksTest, proportionZTest, psi, wassersteinNormalized } from './drift-tests.js';
import { chi2Sf, kolmogorovSf } from './special-functions.js';

// Oracle values computed with scipy 1.17 / numpy on the same arrays (see each comment).
const ref = [5, 12, 20, 30, 18, 10, 5];
const cur = [2, 6, 14, 25, 26, 18, 9];

describe('drift tests against scipy', () => {
  it('KS: D as scipy.stats.ks_2samp, p as kstwobign.sf(sqrt(n·m/(n+m))·D)', () => {
    const r = ksTest(ref, cur);
    expect(r.score).toBeCloseTo(0.2, 12);
    expect(r.pValue).toBeCloseTo(0.03663105270711935, 10);
  });

  it('chi-square: scipy.stats.chi2_contingency(correction=False)', () => {
    const r = chiSquareTest(ref, cur);
    expect(r.score).toBeCloseTo(9.682200152788388, 10);
    expect(r.pValue).toBeCloseTo(0.1386890890418169, 10);
  });

  it('two-proportion z-test: 2·norm.sf(|z|)', () => {
    const r = proportionZTest(30, 100, 45, 120);
    expect(r.score).toBeCloseTo(1.1685534824642432, 10);
    expect(r.pValue).toBeCloseTo(0.24258357934832098, 8);
  });

  it('Jensen-Shannon distance: scipy.spatial.distance.jensenshannon (natural log)', () => {
    expect(jensenShannon(ref, cur).score).toBeCloseTo(0.15673318512918616, 12);
    expect(jensenShannon([1, 0], [0, 1]).score).toBeCloseTo(Math.sqrt(Math.log(2)), 12);
  });

  it('Wasserstein: scipy.stats.wasserstein_distance on bin centres, over the reference std', () => {
    const centres = [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5];
    expect(wassersteinNormalized(centres, ref, cur).score).toBeCloseTo(0.42901836938385435, 12);
  });

  it('PSI with empty bins floored at 1e-4 (hand-computed with numpy)', () => {
    expect(psi(ref, cur).score).toBeCloseTo(0.1995465094641227, 12);
    // Small arrays by hand: p = (.5, .5), q = (.25, .75): .25·ln 2 + (-.25)·ln(2/3)
    expect(psi([1, 1], [1, 3]).score).toBeCloseTo(0.25 * Math.log(2) - 0.25 * Math.log(2 / 3), 12);
    expect(psi([1, 1], [1, 1]).score).toBe(0);
  });

  it('Benjamini-Hochberg: scipy.stats.false_discovery_control', () => {
    const adj = benjaminiHochberg([0.01, 0.04, 0.03, 0.2, 0.005]);
    [0.025, 0.05, 0.05, 0.2, 0.025].forEach((v, i) => expect(adj[i]).toBeCloseTo(v, 12));
  });

  it('special functions: chi2.sf and kstwobign.sf', () => {
    expect(chi2Sf(3.5, 4)).toBeCloseTo(0.477878344488724, 12);
    expect(chi2Sf(50, 10)).toBeCloseTo(2.669083424904495e-7, 15);
    expect(chi2Sf(0.1, 1)).toBeCloseTo(0.7518296340458492, 12);
    expect(kolmogorovSf(0.5)).toBeCloseTo(0.9639452436648751, 12);
    expect(kolmogorovSf(1.2)).toBeCloseTo(0.11224966667072497, 12);
    expect(kolmogorovSf(2.0)).toBeCloseTo(0.0006709252557796953, 14);
  });
});
