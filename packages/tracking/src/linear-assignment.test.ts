import { describe, expect, it } from 'vitest';
import { linearAssignment } from './linear-assignment.js';

/** The best total over every one-to-one assignment of rows to columns (rows may stay free when `limit` is finite). */
function bruteForce(cost: number[][], limit: number): number {
  const rows = cost.length;
  const cols = cost[0]?.length ?? 0;
  let best = Infinity;
  const walk = (i: number, used: Set<number>, total: number) => {
    if (i === rows) {
      const unusedCols = cols - used.size;
      best = Math.min(best, total + (Number.isFinite(limit) ? (unusedCols * limit) / 2 : 0));
      return;
    }
    if (Number.isFinite(limit) || rows > cols) walk(i + 1, used, total + (Number.isFinite(limit) ? limit / 2 : 0));
    for (let j = 0; j < cols; j++) {
      if (used.has(j)) continue;
      used.add(j);
      walk(i + 1, used, total + cost[i]![j]!);
      used.delete(j);
    }
  };
  walk(0, new Set(), 0);
  return best;
}

const totalOf = (cost: number[][], pairs: [number, number][], limit: number) => {
  const rows = cost.length;
  const cols = cost[0]!.length;
  const free = Number.isFinite(limit) ? ((rows - pairs.length) * limit) / 2 + ((cols - pairs.length) * limit) / 2 : 0;
  return pairs.reduce((s, [i, j]) => s + cost[i]![j]!, 0) + free;
};

describe('linear assignment', () => {
  it('finds the minimum-cost assignment of square and rectangular matrices (against brute force)', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    for (let n = 0; n < 60; n++) {
      const rows = 1 + Math.floor(rand() * 5);
      const cols = 1 + Math.floor(rand() * 5);
      const cost = Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.round(rand() * 100) / 100));
      const full = linearAssignment(cost);
      expect(full.pairs.length).toBe(Math.min(rows, cols));
      // Without a limit every row of a tall matrix cannot be served: compare on the served part.
      if (rows <= cols) expect(totalOf(cost, full.pairs, Infinity)).toBeCloseTo(bruteForce(cost, Infinity), 9);
      const limited = linearAssignment(cost, 0.5);
      expect(limited.pairs.every(([i, j]) => cost[i]![j]! < 0.5)).toBe(true);
      expect(totalOf(cost, limited.pairs, 0.5)).toBeCloseTo(bruteForce(cost, 0.5), 9);
      expect(limited.unmatchedRows.length + limited.pairs.length).toBe(rows);
      expect(limited.unmatchedCols.length + limited.pairs.length).toBe(cols);
    }
  });

  it('leaves rows and columns free when every pair costs the limit or more', () => {
    expect(linearAssignment([[0.9, 0.8], [0.95, 0.99]], 0.8)).toEqual({ pairs: [], unmatchedRows: [0, 1], unmatchedCols: [0, 1] });
    expect(linearAssignment([], 0.8)).toEqual({ pairs: [], unmatchedRows: [], unmatchedCols: [] });
    expect(linearAssignment([[0.1, 0.2], [0.2, 0.9]], 0.5).pairs.sort()).toEqual([[0, 1], [1, 0]]);
  });
});
