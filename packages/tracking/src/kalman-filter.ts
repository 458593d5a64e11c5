/**
 * The constant-velocity Kalman filter of SORT and ByteTrack over a box's centre, aspect ratio
 * and height (x, y, a, h) and their velocities, one step per frame. Noise scales with the
 * box's height, so that a large near object may move more pixels than a small far one.
 */
export interface KalmanState {
  mean: Float64Array;
  /** 8 x 8, row-major. */
  cov: Float64Array;
}

const WEIGHT_POSITION = 1 / 20;
const WEIGHT_VELOCITY = 1 / 160;

const diag = (values: number[]) => {
  const m = new Float64Array(values.length * values.length);
  values.forEach((v, i) => (m[i * values.length + i] = v * v));
  return m;
};

/** A new track's state from its first measurement (x, y, a, h): unknown velocity, wide uncertainty. */
export function initiate(z: readonly number[]): KalmanState {
  const h = z[3]!;
  const mean = new Float64Array([z[0]!, z[1]!, z[2]!, z[3]!, 0, 0, 0, 0]);
  const wp = 2 * WEIGHT_POSITION * h;
  const wv = 10 * WEIGHT_VELOCITY * h;
  return { mean, cov: diag([wp, wp, 1e-2, wp, wv, wv, 1e-5, wv]) };
}

/** One frame ahead: x += v, P = F P F' + Q. */
export function predict(s: KalmanState): void {
  const { mean, cov } = s;
  const h = mean[3]!;
  for (let i = 0; i < 4; i++) mean[i]! += mean[i + 4]!;
  // F P F' with F = [[I, I], [0, I]]: add the velocity rows to the position rows, then the columns.
  for (let i = 0; i < 4; i++) for (let j = 0; j < 8; j++) cov[i * 8 + j]! += cov[(i + 4) * 8 + j]!;
  for (let j = 0; j < 4; j++) for (let i = 0; i < 8; i++) cov[i * 8 + j]! += cov[i * 8 + j + 4]!;
  const wp = WEIGHT_POSITION * h;
  const wv = WEIGHT_VELOCITY * h;
  const q = [wp, wp, 1e-2, wp, wv, wv, 1e-5, wv];
  for (let i = 0; i < 8; i++) cov[i * 9]! += q[i]! * q[i]!;
}

/** Corrects the state with a measurement (x, y, a, h). */
export function update(s: KalmanState, z: readonly number[]): void {
  const { mean, cov } = s;
  const h = mean[3]!;
  const r = [WEIGHT_POSITION * h, WEIGHT_POSITION * h, 1e-1, WEIGHT_POSITION * h];
  // S = H P H' + R: the top-left 4 x 4 of P.
  const S = new Float64Array(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) S[i * 4 + j] = cov[i * 8 + j]! + (i === j ? r[i]! * r[i]! : 0);
  const Si = invert4(S);
  // K = P H' S^-1 (8 x 4); P H' is P's first four columns.
  const K = new Float64Array(32);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 4; j++) {
    let v = 0;
    for (let k = 0; k < 4; k++) v += cov[i * 8 + k]! * Si[k * 4 + j]!;
    K[i * 4 + j] = v;
  }
  const y = [0, 1, 2, 3].map((i) => z[i]! - mean[i]!);
  for (let i = 0; i < 8; i++) for (let k = 0; k < 4; k++) mean[i]! += K[i * 4 + k]! * y[k]!;
  // P -= K S K' = K (P H')'.
  const PHt = new Float64Array(32);
  for (let i = 0; i < 8; i++) for (let k = 0; k < 4; k++) PHt[i * 4 + k] = cov[i * 8 + k]!;
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) {
    let v = 0;
    for (let k = 0; k < 4; k++) v += K[i * 4 + k]! * PHt[j * 4 + k]!;
    cov[i * 8 + j]! -= v;
  }
}

/** The inverse of a 4 x 4 matrix (Gauss-Jordan with partial pivoting; S is symmetric positive definite). */
function invert4(m: Float64Array): Float64Array {
  const a = Float64Array.from(m);
  const inv = new Float64Array(16);
  for (let i = 0; i < 4; i++) inv[i * 5] = 1;
  for (let c = 0; c < 4; c++) {
    let p = c;
    for (let r = c + 1; r < 4; r++) if (Math.abs(a[r * 4 + c]!) > Math.abs(a[p * 4 + c]!)) p = r;
    if (p !== c) for (let k = 0; k < 4; k++) {
      [a[c * 4 + k], a[p * 4 + k]] = [a[p * 4 + k]!, a[c * 4 + k]!];
      [inv[c * 4 + k], inv[p * 4 + k]] = [inv[p * 4 + k]!, inv[c * 4 + k]!];
    }
    const d = a[c * 4 + c]!;
    for (let k = 0; k < 4; k++) {
      a[c * 4 + k]! /= d;
      inv[c * 4 + k]! /= d;
    }
    for (let r = 0; r < 4; r++) {
      if (r === c) continue;
      const f = a[r * 4 + c]!;
      if (f === 0) continue;
      for (let k = 0; k < 4; k++) {
        a[r * 4 + k]! -= f * a[c * 4 + k]!;
        inv[r * 4 + k]! -= f * inv[c * 4 + k]!;
      }
    }
  }
  return inv;
}
