import { z } from 'zod';
import { parseOrThrow, ValidationError } from '@spotter/shared';

/** `$parameters`: a name to a string, number or boolean. */
const Parameters = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
export type Parameters = z.infer<typeof Parameters>;

// The protocol's $inference_request. Fields it does not define (KServe's client adds
// `model_name`) are ignored, as the protocol lets a server do.
const InferenceRequest = z.object({
  id: z.string().max(256).optional(),
  parameters: Parameters.optional(),
  inputs: z
    .array(
      z.object({
        name: z.string().min(1).max(256),
        shape: z.array(z.number().int().nonnegative()).max(8),
        datatype: z.string().max(16),
        parameters: Parameters.optional(),
        data: z.unknown().optional(),
      }),
    )
    .min(1)
    .max(16),
  outputs: z.array(z.object({ name: z.string().min(1).max(256), parameters: Parameters.optional() })).max(16).optional(),
});

export interface InferInput {
  name: string;
  datatype: string;
  shape: number[];
  /** The JSON `data`, when the tensor came as JSON. */
  data?: unknown;
  /** The tensor's bytes, when it came as binary data after the JSON. */
  binary?: Buffer;
}

export interface InferRequest {
  id?: string | undefined;
  parameters: Parameters;
  inputs: InferInput[];
  outputs?: { name: string; parameters: Parameters }[] | undefined;
}

/**
 * An inference request body: JSON, or with the binary tensor data extension the JSON header
 * (its length in `Inference-Header-Content-Length`) followed by each binary input's bytes
 * (`parameters.binary_data_size`), in the order of the inputs, filling the body exactly.
 */
export function parseInferRequest(body: Buffer, headerLength: string | undefined): InferRequest {
  let jsonLength = body.length;
  if (headerLength !== undefined) {
    jsonLength = /^\d{1,12}$/.test(headerLength.trim()) ? Number(headerLength) : NaN;
    if (!(jsonLength > 0 && jsonLength <= body.length)) {
      throw new ValidationError(`Inference-Header-Content-Length must be the length of the JSON header, between 1 and the body's ${body.length} bytes (got ${JSON.stringify(headerLength)})`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(body.subarray(0, jsonLength).toString('utf8'));
  } catch (err) {
    throw new ValidationError(`the inference request is not JSON${headerLength === undefined ? ' (binary tensor data needs Inference-Header-Content-Length)' : ''}: ${(err as Error).message}`, 'INVALID_JSON');
  }
  const req = parseOrThrow(InferenceRequest, json);
  const rest = body.subarray(jsonLength);
  let offset = 0;
  const inputs = req.inputs.map(({ parameters = {}, ...input }): InferInput => {
    if (parameters.shared_memory_region !== undefined) throw new ValidationError(`input "${input.name}": the shared memory extension is not supported; send the tensor as JSON or binary data`, 'UNSUPPORTED_FEATURE');
    const size = parameters.binary_data_size;
    if (size === undefined) {
      if (input.data === undefined) throw new ValidationError(`input "${input.name}" has neither data nor parameters.binary_data_size`);
      return { name: input.name, datatype: input.datatype, shape: input.shape, data: input.data };
    }
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new ValidationError(`input "${input.name}": binary_data_size must be a whole number of bytes`);
    if (input.data !== undefined) throw new ValidationError(`input "${input.name}" has both data and binary_data_size`);
    if (offset + size > rest.length) throw new ValidationError(`input "${input.name}" declares ${size} bytes of binary data, but the body holds ${rest.length - offset} more after the JSON`);
    const binary = rest.subarray(offset, offset + size);
    offset += size;
    return { name: input.name, datatype: input.datatype, shape: input.shape, binary };
  });
  if (offset !== rest.length) throw new ValidationError(`the body has ${rest.length - offset} bytes after the JSON header that no input's binary_data_size accounts for`);
  return { id: req.id, parameters: req.parameters ?? {}, inputs, outputs: req.outputs?.map((o) => ({ name: o.name, parameters: o.parameters ?? {} })) };
}
