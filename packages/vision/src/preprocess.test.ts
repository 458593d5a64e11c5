import { describe, expect, it } from 'vitest';
import { blankInput, extraInputValues, fillImageTensor, fitGeometry, squareTarget, type ModelInput, type Preprocess } from './preprocess.js';

const settings = (fields: Partial<Preprocess> = {}): Preprocess => ({
  width: 4,
  height: 4,
  resize: 'letterbox',
  pad: 'top-left',
  padValue: 114,
  channels: 'rgb',
  scale: 1,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  layout: 'nchw',
  inputs: {},
  ...fields,
});

describe('fitGeometry', () => {
  it("letterboxes top-left with YOLOX's rounding down", () => {
    expect(fitGeometry(640, 427, squareTarget(416))).toEqual({ fitWidth: 416, fitHeight: 277, scaleX: 0.65, scaleY: 0.65, padX: 0, padY: 0 });
  });

  it("centres with Ultralytics' rounding: round(d - 0.1) before, the rest after", () => {
    // 640x427 into 640x640: r = 1, 213 rows of padding: 106 above, 107 below.
    expect(fitGeometry(640, 427, { width: 640, height: 640, resize: 'letterbox', pad: 'center' })).toEqual({ fitWidth: 640, fitHeight: 427, scaleX: 1, scaleY: 1, padX: 0, padY: 106 });
    const g = fitGeometry(500, 375, { width: 320, height: 320, resize: 'letterbox', pad: 'center' });
    expect(g).toMatchObject({ fitWidth: 320, fitHeight: 240, padX: 0, padY: 40 });
  });

  it('stretches to the target with a scale per axis and non-square targets', () => {
    expect(fitGeometry(400, 200, { width: 320, height: 240, resize: 'stretch', pad: 'top-left' })).toEqual({ fitWidth: 320, fitHeight: 240, scaleX: 0.8, scaleY: 1.2, padX: 0, padY: 0 });
  });
});

describe('fillImageTensor', () => {
  // A 2x1 picture: red, then (10, 20, 30).
  const img: ModelInput = { width: 2, height: 1, pixels: Uint8Array.from([255, 0, 0, 10, 20, 30]), fitWidth: 2, fitHeight: 1, scaleX: 1, scaleY: 1, padX: 1, padY: 2 };

  it('places the picture at its offset, pads the rest, and swaps channels for BGR', () => {
    const t = fillImageTensor(img, settings({ channels: 'bgr' }));
    const plane = 16;
    // Row 2, columns 1 and 2 of each plane; B first.
    expect([t[2 * 4 + 1], t[2 * 4 + 2]]).toEqual([0, 30]);
    expect([t[plane + 2 * 4 + 1], t[2 * plane + 2 * 4 + 1]]).toEqual([0, 255]);
    expect(t[0]).toBe(114);
    expect(t.filter((v) => v === 114)).toHaveLength(3 * 16 - 6);
  });

  it('normalises pixels and padding alike: (v * scale - mean) / std per model channel', () => {
    const t = fillImageTensor(img, settings({ scale: 1 / 255, mean: [0.5, 0, 0], std: [0.5, 1, 2], padValue: 0 }));
    expect(t[0]).toBeCloseTo(-1);
    expect(t[2 * 4 + 1]).toBeCloseTo(1);
    expect(t[2 * 16 + 2 * 4 + 2]).toBeCloseTo(30 / 255 / 2);
  });

  it('writes NHWC when the graph wants channels last', () => {
    const t = fillImageTensor(img, settings({ layout: 'nhwc' }));
    const at = (2 * 4 + 2) * 3;
    expect([...t.slice(at, at + 3)]).toEqual([10, 20, 30]);
  });

  it('refuses a picture that does not fit', () => {
    expect(() => fillImageTensor({ ...img, fitWidth: 4, pixels: new Uint8Array(12) }, settings())).toThrow(/does not fit 4x4/);
  });
});

describe('extra inputs and warm-up', () => {
  const img: ModelInput = { width: 640, height: 480, pixels: new Uint8Array(), fitWidth: 320, fitHeight: 320, scaleX: 0.5, scaleY: 2 / 3, padX: 0, padY: 0 };
  it('feeds sizes and ratios in the order asked', () => {
    const p = settings({ width: 320, height: 320 });
    expect(extraInputValues('original_wh', img, p)).toEqual([640, 480]);
    expect(extraInputValues('original_hw', img, p)).toEqual([480, 640]);
    expect(extraInputValues('input_wh', img, p)).toEqual([320, 320]);
    expect(extraInputValues('scale_hw', img, p)).toEqual([2 / 3, 0.5]);
  });

  it('warms up with a pad-coloured picture of the input size', () => {
    const b = blankInput(settings({ width: 8, height: 6, pad: 'center' }));
    expect(b).toMatchObject({ width: 8, height: 6, fitWidth: 8, fitHeight: 6, padX: 0, padY: 0 });
    expect(b.pixels.every((v) => v === 114)).toBe(true);
  });
});
