/** A dimension: a number when the graph fixes it, null when it is symbolic (`N`, `batch`) or absent. */
export type Dim = number | null;

/** One graph input or output as the file declares it. */
export interface TensorInfo {
  name: string;
  /** onnxruntime's element type name: `float32`, `int64`, `int32`, `uint8`, `float16`, ... */
  type: string;
  shape: readonly Dim[];
}

/** A model's inputs and outputs, from the file (onnx-file.ts) or from an onnxruntime session. */
export interface ModelIO {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
}

/** What an onnxruntime session (Node or web) says about itself. */
export interface SessionDescription {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata: readonly { name?: string; isTensor: boolean; type?: string; shape?: readonly (number | string)[] }[];
  outputMetadata?: readonly { name?: string; isTensor: boolean; type?: string; shape?: readonly (number | string)[] }[];
}

const dimOf = (d: number | string): Dim => (typeof d === 'number' && d > 0 ? d : null);

/** The inputs and outputs of a loaded onnxruntime session. */
export function ioFromSession(s: SessionDescription): ModelIO {
  const list = (names: readonly string[], meta: SessionDescription['inputMetadata'] | undefined) =>
    names.map((name, i) => {
      const m = meta?.[i];
      return { name, type: m?.isTensor ? (m.type ?? 'float32') : 'non-tensor', shape: m?.isTensor ? (m.shape ?? []).map(dimOf) : [] };
    });
  return { inputs: list(s.inputNames, s.inputMetadata), outputs: list(s.outputNames, s.outputMetadata) };
}

/** `[1, 3, 640, 640]`, symbolic dimensions as `?`. */
export const shapeText = (shape: readonly Dim[]) => `[${shape.map((d) => d ?? '?').join(', ')}]`;

/** One line naming every input and output with its shape, for messages. */
export function describeIO(io: ModelIO): string {
  const list = (ts: TensorInfo[]) => ts.map((t) => `${t.name} ${t.type === 'float32' ? '' : `${t.type} `}${shapeText(t.shape)}`).join(', ');
  return `inputs ${list(io.inputs)}; outputs ${list(io.outputs)}`;
}
