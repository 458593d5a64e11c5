/**
 * A float32 tensor with its dimensions in one object: uint32 rank, rank uint32 dimensions,
 * then the values, all little-endian. How a worker hands a model's raw output to the API
 * through storage (never through Redis).
 */
export function encodeRawTensor(dims: readonly number[], data: Float32Array): Uint8Array {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== data.length) throw new Error(`${data.length} values for dims [${dims.join(', ')}]`);
  const out = new Uint8Array(4 * (1 + dims.length + data.length));
  const view = new DataView(out.buffer);
  view.setUint32(0, dims.length, true);
  dims.forEach((d, i) => view.setUint32(4 * (1 + i), d, true));
  const offset = 4 * (1 + dims.length);
  for (let i = 0; i < data.length; i++) view.setFloat32(offset + 4 * i, data[i]!, true);
  return out;
}

/** The tensor encodeRawTensor wrote; throws when the bytes do not hold one. */
export function decodeRawTensor(bytes: Uint8Array): { dims: number[]; data: Float32Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rank = bytes.length >= 4 ? view.getUint32(0, true) : -1;
  if (rank < 0 || rank > 8 || bytes.length < 4 * (1 + rank)) throw new Error('not a raw tensor');
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 * (1 + i), true));
  const size = dims.reduce((a, b) => a * b, 1);
  const offset = 4 * (1 + rank);
  if (bytes.length !== offset + 4 * size) throw new Error(`a raw tensor of dims [${dims.join(', ')}] needs ${offset + 4 * size} bytes, not ${bytes.length}`);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = view.getFloat32(offset + 4 * i, true);
  return { dims, data };
}
