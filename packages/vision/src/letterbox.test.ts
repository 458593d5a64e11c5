import { describe, expect, it } from 'vitest';
import { fillLetterbox } from './letterbox.js';

describe('fillLetterbox', () => {
  // 2x1 RGB image: red, then blue.
  const pixels = Uint8Array.from([255, 0, 0, 0, 0, 255]);

  it('pastes top-left in planar BGR and pads with 114', () => {
    const out = fillLetterbox(pixels, 2, 1, 3, new Float32Array(27), true);
    const plane = (c: number) => [...out.subarray(c * 9, c * 9 + 9)];
    expect(plane(0)).toEqual([0, 255, 114, 114, 114, 114, 114, 114, 114]); // B
    expect(plane(1)).toEqual([0, 0, 114, 114, 114, 114, 114, 114, 114]); // G
    expect(plane(2)).toEqual([255, 0, 114, 114, 114, 114, 114, 114, 114]); // R
  });

  it('keeps RGB order when asked and refuses images that do not fit', () => {
    const out = fillLetterbox(pixels, 2, 1, 2, new Float32Array(12), false);
    expect(out[0]).toBe(255);
    expect(() => fillLetterbox(pixels, 2, 1, 1, new Float32Array(3), true)).toThrow(/does not fit/);
  });
});
