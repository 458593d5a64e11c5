import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { onnxSignature } from './onnx-signature.js';

const MODEL = path.resolve(import.meta.dirname, '../../../models/yolox_nano.onnx');

describe('onnxSignature', () => {
  it("reads the real model's declared input and output, as onnxruntime reports them", async () => {
    expect(onnxSignature(await readFile(MODEL))).toEqual({
      inputs: [{ name: 'images', datatype: 'FP32', shape: [1, 3, 416, 416] }],
      outputs: [{ name: 'output', datatype: 'FP32', shape: [1, 3549, 85] }],
    });
  });

  it('answers null for bytes that are not an ONNX model', async () => {
    expect(onnxSignature(new TextEncoder().encode('not a model'))).toBeNull();
    expect(onnxSignature((await readFile(MODEL)).subarray(0, 1000))).toBeNull();
  });
});
