// Pre-processing as data: how a picture becomes a model's input tensor. Each family states
// its defaults (families/), a manifest may override any of them, and the graph fixes what it
// fixes (input size, layout). The worker, the CLI and the browser all run this code.

export type ResizeMode = 'letterbox' | 'stretch';
export type PadPosition = 'top-left' | 'center';
export type ChannelOrder = 'rgb' | 'bgr';
export type Triple = readonly [number, number, number];

/**
 * What a non-image input is fed with: the original picture's size as [width, height] or
 * [height, width], the model input's size, or the resize ratio input / original per axis.
 */
export const EXTRA_INPUT_SOURCES = ['original_wh', 'original_hw', 'input_wh', 'input_hw', 'scale_wh', 'scale_hw'] as const;
export type ExtraInputSource = (typeof EXTRA_INPUT_SOURCES)[number];

/** Every pre-processing setting, resolved. */
export interface Preprocess {
  /** Model input size in pixels. */
  width: number;
  height: number;
  /** `letterbox` keeps the aspect ratio and pads; `stretch` fills the input exactly. */
  resize: ResizeMode;
  pad: PadPosition;
  /** Padding, in 0..255 pixel units (normalised like the pixels). */
  padValue: number;
  channels: ChannelOrder;
  /** value = (pixel * scale - mean[c]) / std[c], per channel in the model's channel order. */
  scale: number;
  mean: Triple;
  std: Triple;
  /** Where the channel axis is: [N, 3, H, W] or [N, H, W, 3]. Read from the graph. */
  layout: 'nchw' | 'nhwc';
  /** Non-image inputs by name, and what each is fed with. */
  inputs: Readonly<Record<string, ExtraInputSource>>;
}

/** Settings a family or a manifest may give; the rest comes from elsewhere. */
export type PreprocessSettings = Partial<Omit<Preprocess, 'width' | 'height' | 'layout'>> & { size?: { width: number; height: number } };

/** What the decoder (sharp in the worker, a canvas in the browser) resizes a picture to. */
export interface FitTarget {
  width: number;
  height: number;
  resize: ResizeMode;
  pad: PadPosition;
}

/** How a picture sits in the model input: its resized size, scale per axis and offset. */
export interface Fit {
  fitWidth: number;
  fitHeight: number;
  /** Input pixels per original pixel, per axis. */
  scaleX: number;
  scaleY: number;
  /** Where the resized picture starts in the input (letterbox padding before it). */
  padX: number;
  padY: number;
}

/** A picture's original size and where its fit sits in the model input: what post-processing undoes. */
export interface Frame extends Fit {
  /** Size of the original as displayed. */
  width: number;
  height: number;
}

/** Pixels already resized to their fit (the worker's decodeToFit, or a canvas), RGB, row-major. */
export interface ModelInput extends Frame {
  pixels: Uint8Array;
}

/** A square letterbox pasted top-left: YOLOX's, and what a bare size means. */
export const squareTarget = (size: number): FitTarget => ({ width: size, height: size, resize: 'letterbox', pad: 'top-left' });

/**
 * Where a `width` x `height` picture goes in the target. Letterbox top-left rounds the fitted
 * size down (YOLOX's int(w * r)); centred, it rounds to nearest and splits the padding as
 * Ultralytics' LetterBox does (round(d - 0.1) before, the rest after).
 */
export function fitGeometry(width: number, height: number, target: FitTarget): Fit {
  if (target.resize === 'stretch') {
    return { fitWidth: target.width, fitHeight: target.height, scaleX: target.width / width, scaleY: target.height / height, padX: 0, padY: 0 };
  }
  const r = Math.min(target.width / width, target.height / height);
  const round = target.pad === 'center' ? Math.round : Math.floor;
  const fitWidth = Math.min(target.width, Math.max(1, round(width * r)));
  const fitHeight = Math.min(target.height, Math.max(1, round(height * r)));
  const offset = (free: number) => (target.pad === 'center' ? Math.max(0, Math.round(free / 2 - 0.1)) : 0);
  return { fitWidth, fitHeight, scaleX: r, scaleY: r, padX: offset(target.width - fitWidth), padY: offset(target.height - fitHeight) };
}

/** The fit target of resolved settings. */
export const fitTarget = (p: Preprocess): FitTarget => ({ width: p.width, height: p.height, resize: p.resize, pad: p.pad });

/** Per channel of the model, a table from 0..255 to the normalised value. */
function tables(p: Preprocess): Float32Array[] {
  return [0, 1, 2].map((c) => {
    const t = new Float32Array(256);
    for (let v = 0; v < 256; v++) t[v] = (v * p.scale - p.mean[c]!) / p.std[c]!;
    return t;
  });
}

/** The image tensor (3 x height x width values, in `p.layout`) for a fitted picture. */
export function fillImageTensor(img: ModelInput, p: Preprocess): Float32Array {
  const { width: W, height: H } = p;
  if (img.padX + img.fitWidth > W || img.padY + img.fitHeight > H) throw new Error(`image ${img.fitWidth}x${img.fitHeight} does not fit ${W}x${H}`);
  if (img.pixels.length !== img.fitWidth * img.fitHeight * 3) throw new Error(`expected ${img.fitWidth * img.fitHeight * 3} RGB bytes, got ${img.pixels.length}`);
  const lut = tables(p);
  const out = new Float32Array(3 * W * H);
  const plane = W * H;
  // Model channel k reads RGB channel src[k].
  const src = p.channels === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const nchw = p.layout === 'nchw';
  for (let k = 0; k < 3; k++) {
    const fill = (p.padValue * p.scale - p.mean[k]!) / p.std[k]!;
    if (nchw) out.fill(fill, k * plane, (k + 1) * plane);
    else for (let i = k; i < out.length; i += 3) out[i] = fill;
  }
  const px = img.pixels;
  const fw = img.fitWidth;
  if (nchw) {
    // One pass over the pixels writing all three planes: a third of the reads of a pass per
    // plane (0.9 ms against 1.3 for a 416x312 picture; docs/performance.md).
    const [t0, t1, t2] = lut as [Float32Array, Float32Array, Float32Array];
    const [s0, s1, s2] = src as [number, number, number];
    for (let y = 0; y < img.fitHeight; y++) {
      let from = y * fw * 3;
      let to = (y + img.padY) * W + img.padX;
      for (const end = to + fw; to < end; to++, from += 3) {
        out[to] = t0[px[from + s0]!]!;
        out[to + plane] = t1[px[from + s1]!]!;
        out[to + 2 * plane] = t2[px[from + s2]!]!;
      }
    }
    return out;
  }
  for (let k = 0; k < 3; k++) {
    const t = lut[k]!;
    const s = src[k]!;
    for (let y = 0; y < img.fitHeight; y++) {
      let from = y * fw * 3 + s;
      let to = ((y + img.padY) * W + img.padX) * 3 + k;
      for (let x = 0; x < fw; x++, from += 3, to += 3) out[to] = t[px[from]!]!;
    }
  }
  return out;
}

/** The two values a non-image input is fed with. */
export function extraInputValues(source: ExtraInputSource, img: Frame, p: Preprocess): [number, number] {
  switch (source) {
    case 'original_wh':
      return [img.width, img.height];
    case 'original_hw':
      return [img.height, img.width];
    case 'input_wh':
      return [p.width, p.height];
    case 'input_hw':
      return [p.height, p.width];
    case 'scale_wh':
      return [img.scaleX, img.scaleY];
    case 'scale_hw':
      return [img.scaleY, img.scaleX];
  }
}

/** The picture of a blank (pad-coloured) input: what a model is warmed up with. */
export function blankInput(p: Preprocess): ModelInput {
  const fit = fitGeometry(p.width, p.height, fitTarget(p));
  return { width: p.width, height: p.height, pixels: new Uint8Array(fit.fitWidth * fit.fitHeight * 3).fill(Math.round(p.padValue)), ...fit };
}
