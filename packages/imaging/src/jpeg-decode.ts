import { createRequire } from 'node:module';
import { fitGeometry, type FitTarget, type ModelInput } from '@spotter/vision';
import { jpegHeader } from './header.js';
import { isSrgbProfile } from './icc-profile.js';
import { orientedSize } from './probe.js';
import { walkJpeg, type JpegSegment } from './sniff.js';

interface NativeJpegFit {
  /** Decodes, resizes to width x height (stored frame) and orients; null: not for this path. */
  decode(jpeg: Buffer, width: number, height: number, orientation: number): Promise<Buffer | null>;
}

/**
 * The addon built from native/jpeg-fit.c against the system's libjpeg-turbo by the set-up
 * (scripts/lib.mjs ensureNativeJpeg); absent where it could not be built (no compiler or
 * libjpeg headers): every picture then goes through sharp.
 */
function loadAddon(): { addon: NativeJpegFit | null; problem: string | null } {
  try {
    return { addon: createRequire(import.meta.url)('../native/build/jpeg-fit.node') as NativeJpegFit, problem: null };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A build that failed leaves no file; one that is there but does not load (libjpeg missing
    // at run time, another Node ABI) is worth its loader's message.
    return { addon: null, problem: code === 'MODULE_NOT_FOUND' ? 'not built (npm test / npm start build it; it needs a C compiler and libjpeg-turbo headers)' : (err as Error).message.split('\n')[0]! };
  }
}

const loaded = loadAddon();
const addon = loaded.addon;

/** Whether JPEGs decode through libjpeg-turbo directly here (the addon is built and loads). */
export const nativeJpegAvailable = addon !== null;

/** Which decoder JPEGs go through, for the start-up log line: the addon, or sharp and why. */
export const jpegDecoderDescription = addon
  ? 'libjpeg-turbo (packages/imaging/native addon), sharp for other formats and what the addon declines'
  : `sharp: the native JPEG decoder is ${loaded.problem}`;

const ICC_TAG = 'ICC_PROFILE\0';

/** The embedded ICC profile, its APP2 chunks joined in sequence order; null when there is none. */
export function jpegIccProfile(buf: Buffer, segments: readonly JpegSegment[]): Buffer | null {
  const chunks: { seq: number; data: Buffer }[] = [];
  for (const s of segments) {
    if (s.marker !== 0xe2 || s.end - s.start < 18 || buf.toString('latin1', s.start + 4, s.start + 16) !== ICC_TAG) continue;
    chunks.push({ seq: buf[s.start + 16]!, data: buf.subarray(s.start + 18, s.end) });
  }
  if (!chunks.length) return null;
  return Buffer.concat(chunks.sort((a, b) => a.seq - b.seq).map((c) => c.data));
}

/**
 * A JPEG fitted to its place in `target` by libjpeg-turbo without libvips (the same pixels within a
 * level or two: same decoder, same shrink-on-load rule, the same triangle filter), or null
 * when the picture is for sharp: no addon, over the pixel limit, a profile other than sRGB
 * (sharp converts it), CMYK, or anything libjpeg warns or fails about (sharp then decides
 * whether it decodes and words the error).
 */
export async function decodeJpegToFit(buf: Buffer, target: FitTarget, maxPixels: number): Promise<(ModelInput & { pixels: Buffer }) | null> {
  if (!addon) return null;
  const { segments } = walkJpeg(buf);
  const header = jpegHeader(buf, segments);
  if (!header || header.width * header.height > maxPixels) return null;
  const icc = jpegIccProfile(buf, segments);
  if (icc && !isSrgbProfile(icc)) return null;
  const { width, height } = orientedSize(header.width, header.height, header.orientation);
  const fit = fitGeometry(width, height, target);
  const { fitWidth, fitHeight } = fit;
  const turned = header.orientation >= 5;
  const pixels = await addon.decode(buf, turned ? fitHeight : fitWidth, turned ? fitWidth : fitHeight, header.orientation).catch(() => null);
  return pixels && { width, height, pixels, ...fit };
}
