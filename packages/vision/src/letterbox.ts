/** The value YOLOX pads its letterbox with. */
export const PAD_VALUE = 114;

/**
 * Writes fitted RGB pixels into a `[1, 3, size, size]` float tensor, pasted top-left and
 * padded with 114. `bgr` selects the channel order the model was trained with.
 */
export function fillLetterbox(
  pixels: Uint8Array,
  width: number,
  height: number,
  size: number,
  out: Float32Array,
  bgr: boolean,
): Float32Array {
  const plane = size * size;
  if (out.length !== 3 * plane) throw new Error(`tensor has ${out.length} values, expected ${3 * plane}`);
  if (width > size || height > size) throw new Error(`image ${width}x${height} does not fit ${size}x${size}`);
  out.fill(PAD_VALUE);
  const [c0, c1, c2] = bgr ? [2 * plane, plane, 0] : [0, plane, 2 * plane];
  for (let y = 0; y < height; y++) {
    let src = y * width * 3;
    let dst = y * size;
    for (let x = 0; x < width; x++, src += 3, dst++) {
      out[c0 + dst] = pixels[src]!;
      out[c1 + dst] = pixels[src + 1]!;
      out[c2 + dst] = pixels[src + 2]!;
    }
  }
  return out;
}
