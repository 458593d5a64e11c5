import type { Candidate } from './nms.js';

/**
 * Turns a model's raw output tensor into candidate boxes in the model's input frame.
 * One implementation per export layout; chosen by the model's manifest/config.
 */
export interface OutputDecoder {
  readonly name: string;
  /** Throws with a readable message when the output shape is not this layout. */
  checkShape(dims: readonly number[], inputSize: number, numClasses: number): void;
  decode(data: Float32Array, dims: readonly number[], inputSize: number, minScore: number): Candidate[];
}

const STRIDES = [8, 16, 32];

function yoloxAnchors(inputSize: number) {
  return STRIDES.reduce((n, s) => n + (inputSize / s) ** 2, 0);
}

/**
 * YOLOX raw head output `[1, A, 5 + C]`: per anchor `tx, ty, tw, th, objectness, C class
 * scores` (sigmoid already applied), anchors on stride 8, 16, 32 grids, row-major.
 */
export const yoloxDecoder: OutputDecoder = {
  name: 'yolox',
  checkShape(dims, inputSize, numClasses) {
    const anchors = yoloxAnchors(inputSize);
    if (dims.length !== 3 || dims[1] !== anchors || dims[2] !== 5 + numClasses) {
      throw new Error(`expected YOLOX output [1, ${anchors}, ${5 + numClasses}], got [${dims.join(', ')}]`);
    }
  },
  decode(data, dims, inputSize, minScore) {
    const stride5 = dims[2]!;
    const numClasses = stride5 - 5;
    const out: Candidate[] = [];
    let a = 0;
    for (const stride of STRIDES) {
      const g = inputSize / stride;
      for (let gy = 0; gy < g; gy++) {
        for (let gx = 0; gx < g; gx++, a++) {
          const o = a * stride5;
          const obj = data[o + 4]!;
          if (obj < minScore) continue; // score = obj * cls <= obj
          let best = 0;
          let cls = 0;
          for (let c = 0; c < numClasses; c++) {
            const s = data[o + 5 + c]!;
            if (s > best) {
              best = s;
              cls = c;
            }
          }
          const score = obj * best;
          if (score < minScore) continue;
          const cx = (data[o]! + gx) * stride;
          const cy = (data[o + 1]! + gy) * stride;
          const w = Math.exp(data[o + 2]!) * stride;
          const h = Math.exp(data[o + 3]!) * stride;
          out.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score, classId: cls });
        }
      }
    }
    return out;
  },
};

/**
 * YOLOv8 / YOLO11 export `[1, 4 + C, N]`: channel-major, `cx, cy, w, h` in input pixels,
 * then C class scores (no objectness).
 */
export const yolov8Decoder: OutputDecoder = {
  name: 'yolov8',
  checkShape(dims, _inputSize, numClasses) {
    if (dims.length !== 3 || dims[1] !== 4 + numClasses) {
      throw new Error(`expected YOLOv8 output [1, ${4 + numClasses}, N], got [${dims.join(', ')}]`);
    }
  },
  decode(data, dims, _inputSize, minScore) {
    const channels = dims[1]!;
    const n = dims[2]!;
    const out: Candidate[] = [];
    for (let i = 0; i < n; i++) {
      let best = 0;
      let cls = 0;
      for (let c = 4; c < channels; c++) {
        const s = data[c * n + i]!;
        if (s > best) {
          best = s;
          cls = c - 4;
        }
      }
      if (best < minScore) continue;
      const cx = data[i]!;
      const cy = data[n + i]!;
      const w = data[2 * n + i]!;
      const h = data[3 * n + i]!;
      out.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score: best, classId: cls });
    }
    return out;
  },
};

export const outputDecoders = { yolox: yoloxDecoder, yolov8: yolov8Decoder } as const;
export type OutputFormat = keyof typeof outputDecoders;
