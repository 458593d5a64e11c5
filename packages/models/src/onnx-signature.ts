import type { RegisteredModel, TensorSignature } from '@spotter/shared';

export type ModelSignature = NonNullable<RegisteredModel['signature']>;

// TensorProto.DataType -> the protocol's tensor data types.
const DATATYPES: Record<number, string> = { 1: 'FP32', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'BYTES', 9: 'BOOL', 10: 'FP16', 11: 'FP64', 12: 'UINT32', 13: 'UINT64', 16: 'BF16' };

/** The fields of one protobuf message: field number -> values (varints as numbers, length-delimited as byte views). */
function fields(buf: Uint8Array): Map<number, (number | Uint8Array)[]> {
  const out = new Map<number, (number | Uint8Array)[]>();
  let i = 0;
  const varint = () => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    let value: number | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const len = varint();
      if (i + len > buf.length) throw new Error('truncated field');
      value = buf.subarray(i, i + len);
      i += len;
    } else if (wire === 1 || wire === 5) {
      value = 0;
      i += wire === 1 ? 8 : 4;
    } else throw new Error(`unsupported wire type ${wire}`);
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}

const bytesOf = (m: Map<number, (number | Uint8Array)[]>, n: number) => m.get(n)?.filter((v): v is Uint8Array => v instanceof Uint8Array) ?? [];
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : '');

/** ValueInfoProto { 1: name, 2: TypeProto { 1: tensor_type { 1: elem_type, 2: TensorShapeProto { 1: dim { 1: dim_value | 2: dim_param } } } } }. */
function tensorOf(valueInfo: Uint8Array): TensorSignature {
  const vi = fields(valueInfo);
  const tensorType = bytesOf(fields(bytesOf(vi, 2)[0] ?? new Uint8Array()), 1)[0];
  const tt = fields(tensorType ?? new Uint8Array());
  const elem = tt.get(1)?.[0];
  const dims = bytesOf(fields(bytesOf(tt, 2)[0] ?? new Uint8Array()), 1).map((d) => {
    const value = fields(d).get(1)?.[0];
    return typeof value === 'number' && value > 0 ? value : -1;
  });
  return { name: text(bytesOf(vi, 1)[0]), datatype: (typeof elem === 'number' && DATATYPES[elem]) || 'UNKNOWN', shape: dims };
}

/**
 * The inputs and outputs an .onnx file declares (ModelProto.graph: inputs that are not
 * initializers, outputs), read straight from its protobuf without decoding the weights;
 * null when the bytes are not a readable ONNX model.
 */
export function onnxSignature(bytes: Uint8Array): ModelSignature | null {
  try {
    const graph = bytesOf(fields(bytes), 7)[0];
    if (!graph) return null;
    const g = fields(graph);
    const initializers = new Set(bytesOf(g, 5).map((t) => text(bytesOf(fields(t), 8)[0])));
    const inputs = bytesOf(g, 11).map(tensorOf).filter((t) => !initializers.has(t.name));
    return { inputs, outputs: bytesOf(g, 12).map(tensorOf) };
  } catch {
    return null;
  }
}
