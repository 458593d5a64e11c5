import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { root } from '../../scripts/lib.mjs';

/**
 * The Open Inference Protocol's own OpenAPI document (../shared/specs, Apache-2.0, read at
 * test time, never copied) and its schemas compiled with Ajv: every request and answer of
 * Spotter's /v2 routes is checked against them.
 *
 * The binary tensor data extension replaces a tensor's `data` by
 * `parameters.binary_data_size` (its bytes follow the JSON), where the core schemas require
 * `data`: such tensors are checked with an empty `data` in its place, and the sizes are
 * checked against the bytes that follow (the shared memory extension's tensors likewise name a
 * region instead of carrying data). Nothing else is relaxed.
 */
const doc = parse(readFileSync(path.join(root, '..', 'shared', 'specs', 'open_inference_rest.yaml'), 'utf8')) as {
  paths: Record<string, Record<string, { responses: Record<string, { content?: { 'application/json': { schema: { $ref: string } } } }>; requestBody?: { content: { 'application/json': { schema: { $ref: string } } } } }>>;
  components: { schemas: Record<string, unknown> };
};
// OpenAPI 3.0 schema objects are JSON Schema (draft 4/7 style) plus keywords Ajv does not know (x-examples): not strict.
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema({ $id: 'oip', components: doc.components });
const compiled = new Map<string, ValidateFunction>();
const schemaOf = (name: string) => {
  const ref = name.startsWith('#') ? name : `#/components/schemas/${name}`;
  let v = compiled.get(ref);
  if (!v) compiled.set(ref, (v = ajv.getSchema(`oip${ref}`)!));
  if (!v) throw new Error(`no schema ${ref} in the OIP document`);
  return v;
};

// The document's paths, with `/versions/${MODEL_VERSION}` optional as the prose specification says.
const operations = Object.entries(doc.paths).map(([template, item]) => {
  const pattern = template
    .replace(/\/$/, '')
    .replace('/versions/${MODEL_VERSION}', '(?:/versions/[^/]+)?')
    .replace('${MODEL_NAME}', '[^/]+');
  return { template, item, re: new RegExp(`^${pattern}/?$`) };
});

function operation(method: string, url: string) {
  const p = new URL(url, 'http://x').pathname;
  const found = operations.find((o) => o.re.test(p) && o.item[method.toLowerCase()]);
  if (!found) throw new Error(`${method} ${p} is not an operation of the OIP document`);
  return { template: found.template, op: found.item[method.toLowerCase()]! };
}

function check(schema: string, value: unknown, what: string) {
  const v = schemaOf(schema);
  if (!v(value)) throw new Error(`${what} does not validate against ${schema}: ${ajv.errorsText(v.errors)}\n${JSON.stringify(value).slice(0, 500)}`);
}

/** Tensors sent as binary data: `data` filled in for the schema, sizes summed for the caller to check. */
function binaryForm(tensors: { parameters?: Record<string, unknown>; data?: unknown }[] | undefined) {
  let bytes = 0;
  const filled = (tensors ?? []).map((t) => {
    // The shared memory extension, too, names where the tensor is instead of carrying its data.
    if (t.parameters?.shared_memory_region !== undefined && t.data === undefined) return { ...t, data: [] };
    const size = t.parameters?.binary_data_size;
    if (size === undefined) return t;
    if (t.data !== undefined) throw new Error('a binary tensor carries data as well');
    bytes += Number(size);
    return { ...t, data: [] };
  });
  return { filled, bytes };
}

/** Checks an inference request (JSON, and the binary bytes that follow it) against inference_request. */
export function validateOipRequest(method: string, url: string, json: { inputs?: { parameters?: Record<string, unknown> }[] } | undefined, binaryBytes = 0) {
  const { op } = operation(method, url);
  if (!op.requestBody) {
    if (json !== undefined) throw new Error(`${method} ${url} takes no body`);
    return;
  }
  const { filled, bytes } = binaryForm(json?.inputs);
  if (bytes !== binaryBytes) throw new Error(`the inputs' binary_data_size add up to ${bytes}, but ${binaryBytes} bytes follow the JSON`);
  check(op.requestBody.content['application/json'].schema.$ref, { ...json, inputs: filled }, `${method} ${url} request`);
}

/**
 * Checks an answer: its status must be an operation's 2xx (with the declared schema, if any)
 * or an error, whose body is the operation's error object (its declared 400 schema, else the
 * document's error object for that kind of route: the prose says failures are "typically 400").
 */
export function validateOipResponse(method: string, url: string, status: number, json: unknown, binaryBytes = 0) {
  const { template, op } = operation(method, url);
  const what = `${method} ${url} answer ${status}`;
  if (status >= 200 && status < 300) {
    const declared = op.responses[String(status)];
    if (!declared) throw new Error(`${what}: the document declares no ${status} for ${template}`);
    const ref = declared.content?.['application/json'].schema.$ref;
    const outputs = (json as { outputs?: { parameters?: Record<string, unknown> }[] } | undefined)?.outputs;
    const { filled, bytes } = binaryForm(outputs);
    if (bytes !== binaryBytes) throw new Error(`${what}: the outputs' binary_data_size add up to ${bytes}, but ${binaryBytes} bytes follow the JSON`);
    if (ref) check(ref, outputs ? { ...(json as object), outputs: filled } : json, what);
    return;
  }
  const ref =
    op.responses['400']?.content?.['application/json'].schema.$ref ??
    (template.includes('MODEL_NAME') ? 'metadata_model_error_response' : 'metadata_server_error_response');
  check(ref, json, what);
  if (typeof (json as { error?: unknown }).error !== 'string') throw new Error(`${what}: error must be a string`);
}
