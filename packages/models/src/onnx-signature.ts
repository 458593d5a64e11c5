import type { ModelSignature } from '@spotter/shared';
import { readOnnxFile, type TensorInfo } from '@spotter/vision';

// onnxruntime's element type names -> the inference protocol's tensor data types.
const DATATYPES: Record<string, string> = {
  float32: 'FP32', uint8: 'UINT8', int8: 'INT8', uint16: 'UINT16', int16: 'INT16', int32: 'INT32', int64: 'INT64', string: 'BYTES', bool: 'BOOL', float16: 'FP16', float64: 'FP64', uint32: 'UINT32', uint64: 'UINT64', bfloat16: 'BF16',
};

const tensor = (t: TensorInfo) => ({ name: t.name, datatype: DATATYPES[t.type] ?? 'UNKNOWN', shape: t.shape.map((d) => d ?? -1) });

/** The inputs and outputs an .onnx file declares, in the protocol's terms (-1: any size); null when the bytes are not a readable ONNX model. */
export function onnxSignature(bytes: Uint8Array): ModelSignature | null {
  try {
    const { io } = readOnnxFile(bytes);
    return { inputs: io.inputs.map(tensor), outputs: io.outputs.map(tensor) };
  } catch {
    return null;
  }
}
