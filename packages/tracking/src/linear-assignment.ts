/**
 * Minimum-cost assignment (the Hungarian method with potentials, O(n^3)) of the rows of a
 * cost matrix to distinct columns. `limit` makes a pair worth taking only when it costs less
 * than `limit`: as in lap.lapjv(extend_cost=True, cost_limit=limit), which ByteTrack uses,
 * leaving a row or a column unassigned costs limit / 2. `cols` is needed when there are no rows.
 */
export function linearAssignment(cost: readonly (readonly number[])[], limit = Infinity, cols = cost[0]?.length ?? 0): { pairs: [number, number][]; unmatchedRows: number[]; unmatchedCols: number[] } {
  const rows = cost.length;
  const pairs: [number, number][] = [];
  if (rows === 0 || cols === 0) return { pairs, unmatchedRows: range(rows), unmatchedCols: range(cols) };
  const bounded = Number.isFinite(limit);
  // With a limit: an (rows + cols) square where row i may "stay alone" in column cols + i, and
  // column j may be taken by a dummy row rows + j, each at limit / 2.
  const n = bounded ? rows + cols : Math.max(rows, cols);
  const big = bounded ? limit * 4 + 1 : 0;
  const at = (i: number, j: number): number => {
    if (i < rows && j < cols) {
      const c = cost[i]![j]!;
      return bounded ? Math.min(c, big) : c;
    }
    if (!bounded) return 0;
    if (i < rows) return j - cols === i ? limit / 2 : big;
    if (j < cols) return i - rows === j ? limit / 2 : big;
    return 0;
  };
  const colOf = hungarian(n, at);
  const takenCols = new Set<number>();
  for (let i = 0; i < rows; i++) {
    const j = colOf[i]!;
    if (j < cols && (!bounded || cost[i]![j]! < limit)) {
      pairs.push([i, j]);
      takenCols.add(j);
    }
  }
  const takenRows = new Set(pairs.map(([i]) => i));
  return { pairs, unmatchedRows: range(rows).filter((i) => !takenRows.has(i)), unmatchedCols: range(cols).filter((j) => !takenCols.has(j)) };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The column assigned to each row of an n x n matrix given by `at`, at minimum total cost. */
function hungarian(n: number, at: (i: number, j: number) => number): number[] {
  // 1-based potentials u (rows), v (columns); p[j] = row matched to column j (0: none).
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1);
  const way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(Infinity);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = at(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0);
  }
  const colOf = new Array<number>(n).fill(-1);
  for (let j = 1; j <= n; j++) if (p[j]! > 0) colOf[p[j]! - 1] = j - 1;
  return colOf;
}
