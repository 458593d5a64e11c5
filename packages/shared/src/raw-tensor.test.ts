import { describe, expect, it } from 'vitest';
import { decodeRawTensor, encodeRawTensor } from './raw-tensor.js';

describe('raw tensor encoding', () => {
  it('round-trips dims and float32 values, little-endian', () => {
    const data = Float32Array.from([1.5, -2, 3.25, 0, 1e-7, 42]);
    const bytes = encodeRawTensor([1, 2, 3], data);
    expect(bytes.length).toBe(4 * (1 + 3 + 6));
    expect(new DataView(bytes.buffer).getUint32(0, true)).toBe(3);
    expect(decodeRawTensor(bytes)).toEqual({ dims: [1, 2, 3], data });
  });

  it('refuses values that do not fill the dims, and bytes that hold no tensor', () => {
    expect(() => encodeRawTensor([2, 2], new Float32Array(3))).toThrow(/3 values/);
    expect(() => decodeRawTensor(encodeRawTensor([2, 2], new Float32Array(4)).subarray(0, 20))).toThrow(/needs 28 bytes/);
    expect(() => decodeRawTensor(new Uint8Array([255, 255, 255, 255]))).toThrow(/not a raw tensor/);
  });
});
