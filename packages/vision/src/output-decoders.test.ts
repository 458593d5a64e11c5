import { describe, expect, it } from 'vitest';
import { yolov8Decoder, yoloxDecoder } from './output-decoders.js';

describe('YOLOX decoder', () => {
  const size = 64; // grids 8x8 + 4x4 + 2x2 = 84 anchors
  const dims = [1, 84, 5 + 3];

  it('decodes grid offsets, log sizes and score = objectness x class score', () => {
    const data = new Float32Array(84 * 8);
    // Anchor (gx=2, gy=1) of the stride-8 grid: index 1 * 8 + 2 = 10.
    data.set([0.5, 0.5, Math.log(2), Math.log(4), 0.9, 0.1, 0.8, 0.2], 10 * 8);
    // First anchor of the stride-16 grid (index 64), below the threshold.
    data.set([0, 0, 0, 0, 0.2, 0.9, 0, 0], 64 * 8);
    const out = yoloxDecoder.decode(data, dims, size, 0.25);
    expect(out).toHaveLength(1);
    const c = out[0]!;
    expect(c.classId).toBe(1);
    expect(c.score).toBeCloseTo(0.72);
    // cx = (0.5 + 2) * 8 = 20, cy = (0.5 + 1) * 8 = 12, w = 16, h = 32
    expect([c.x1, c.y1, c.x2, c.y2].map((v) => Math.round(v * 1000) / 1000)).toEqual([12, -4, 28, 28]);
  });

  it('checks the output shape against the input size and class count', () => {
    expect(() => yoloxDecoder.checkShape(dims, size, 3)).not.toThrow();
    expect(() => yoloxDecoder.checkShape([1, 3549, 85], 416, 80)).not.toThrow();
    expect(() => yoloxDecoder.checkShape([1, 85, 3549], 416, 80)).toThrow(/expected YOLOX output \[1, 3549, 85\]/);
  });
});

describe('YOLOv8 decoder', () => {
  it('reads the channel-major [1, 4 + C, N] layout', () => {
    const n = 3;
    const data = new Float32Array((4 + 2) * n);
    const set = (ch: number, i: number, v: number) => (data[ch * n + i] = v);
    [100, 50, 20, 10, 0.1, 0.7].forEach((v, ch) => set(ch, 1, v));
    set(4, 0, 0.1);
    const out = yolov8Decoder.decode(data, [1, 6, n], 640, 0.25);
    expect(out).toEqual([{ x1: 90, y1: 45, x2: 110, y2: 55, score: expect.closeTo(0.7, 5), classId: 1 }]);
    expect(() => yolov8Decoder.checkShape([1, 84, 8400], 640, 80)).not.toThrow();
    expect(() => yolov8Decoder.checkShape([1, 8400, 84], 640, 80)).toThrow(/expected YOLOv8/);
  });
});
