import { ValidationError } from '@spotter/shared';

/**
 * Tensor data as the Open Inference Protocol carries it: JSON arrays (nested or flat, row
 * major), or the binary tensor data extension's little-endian bytes, where a BYTES element
 * is a 4-byte little-endian length followed by its bytes.
 */

export type OutputDatatype = 'FP32' | 'INT32' | 'BYTES';

/** An output tensor ready to be written as JSON `data` or as binary. */
export interface OutputTensor {
  name: string;
  datatype: OutputDatatype;
  shape: number[];
  /** Plain numbers keep JSON answers exact (the /v1 values); binary data is written at the datatype's precision. */
  values: number[] | Float32Array | string[];
}

/** The elements of a BYTES tensor's binary form. */
export function decodeBytesElements(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; ) {
    if (i + 4 > buf.length) throw new ValidationError('BYTES tensor data ends inside an element length');
    const len = buf.readUInt32LE(i);
    if (i + 4 + len > buf.length) throw new ValidationError(`BYTES tensor element of ${len} bytes runs past the tensor's data`);
    out.push(buf.subarray(i + 4, i + 4 + len));
    i += 4 + len;
  }
  return out;
}

/** A BYTES tensor's binary form. */
export function encodeBytesElements(items: readonly Buffer[]): Buffer {
  return Buffer.concat(items.flatMap((b) => [Buffer.from(Uint32Array.of(b.length).buffer), b]));
}

/** JSON tensor data (nested arrays allowed) flattened in row-major order. */
export function flattenData(data: unknown): unknown[] {
  if (!Array.isArray(data)) return [data];
  return data.flatMap((d) => flattenData(d));
}

/** JSON `data` of an output tensor. */
export function jsonData(t: OutputTensor): (number | string)[] {
  return Array.from(t.values as ArrayLike<number | string>);
}

/** The binary tensor data extension's bytes of an output tensor. */
export function binaryData(t: OutputTensor): Buffer {
  if (t.datatype === 'BYTES') return encodeBytesElements((t.values as string[]).map((v) => Buffer.from(v, 'utf8')));
  const typed = t.datatype === 'INT32' ? Int32Array.from(t.values as number[]) : t.values instanceof Float32Array ? t.values : Float32Array.from(t.values as number[]);
  // Typed arrays are in the host's byte order; little-endian on every platform Node supports here.
  return Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
}

/** The number of elements a shape holds. */
export const elementCount = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
