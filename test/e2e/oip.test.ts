import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeToFit } from '@spotter/imaging';
import { ModelManifest, type Detection } from '@spotter/shared';
import { fillImageTensor, planForFile, specFromManifest } from '@spotter/vision';
import { corruptPng, datasetImage } from '../support/images.js';
import { rolloutModelDir } from '../support/model-dirs.js';
import { infer, InferInput, InferRequestedOutput, oipCall } from '../support/oip-client.js';
import { getJson, postForm, startSpotter, type Spotter } from '../support/spotter.js';

// The Open Inference Protocol against the real API and worker processes, sent the way
// tritonclient and KServe's REST client send it; every request and answer is checked against
// the protocol's own OpenAPI document (test/support/oip-spec.ts).
const KEY = 'oip-tenant-key-0001';
const OTHER = 'oip-tenant-key-0002';
const ADMIN = { authorization: 'Bearer oip-admin-key-00001' };
const AUTH = { authorization: `Bearer ${KEY}` };
const PICTURE = '000000000139.jpg';

/** An answer's detections rebuilt from its output tensors. */
function detectionsOf(result: NonNullable<Awaited<ReturnType<typeof infer>>['result']>): Detection[] {
  const boxes = result.asArray('detection_boxes').values as number[];
  const scores = result.asArray('detection_scores').values as number[];
  const classes = result.asArray('detection_classes').values as number[];
  const labels = result.asArray('detection_labels').values as Buffer[];
  expect(result.asArray('num_detections').values).toEqual([scores.length]);
  expect(result.asArray('detection_boxes').shape).toEqual([scores.length, 4]);
  return scores.map((score, i) => ({ label: labels[i]!.toString('utf8'), class_id: classes[i]!, score, box: { x1: boxes[4 * i]!, y1: boxes[4 * i + 1]!, x2: boxes[4 * i + 2]!, y2: boxes[4 * i + 3]! } }));
}

/** Detections as float32 carries them: what a binary answer must equal exactly. */
const asFloat32 = (ds: Detection[]) =>
  ds.map((d) => ({ ...d, score: Math.fround(d.score), box: { x1: Math.fround(d.box.x1), y1: Math.fround(d.box.y1), x2: Math.fround(d.box.x2), y2: Math.fround(d.box.y2) } }));

describe('the Open Inference Protocol (v2 REST)', () => {
  let spotter: Spotter;
  let expected: Detection[];
  let picture: Buffer;
  /** The model's input tensor made exactly as the worker makes it, and the picture's size. */
  let tensor: { values: Float32Array; width: number; height: number };

  beforeAll(async () => {
    spotter = await startSpotter({ SPOTTER_API_KEYS: `${KEY},${OTHER}`, SPOTTER_ADMIN_KEYS: 'oip-admin-key-00001', SPOTTER_MODEL_DIR: await rolloutModelDir() });
    picture = await datasetImage(PICTURE);
    const predicted = await postForm(`${spotter.url}/v1/predict`, picture, {}, AUTH);
    expect(predicted.status).toBe(200);
    expected = predicted.body.result.detections;
    expect(expected.length).toBeGreaterThan(3);
    const img = await decodeToFit(picture, 416, 1e8);
    const spec = specFromManifest(ModelManifest.parse({ name: 'yolox_nano', file: 'yolox_nano.onnx' }));
    tensor = { values: fillImageTensor(img, planForFile(spec, await readFile(path.resolve(import.meta.dirname, '../../models/yolox_nano.onnx'))).preprocess), width: img.width, height: img.height };
  });
  afterAll(() => spotter?.stop());

  it('answers health without a key, server and model metadata and readiness with one', async () => {
    expect((await oipCall(spotter.url, 'GET', '/v2/health/live')).json).toEqual({ live: true });
    expect((await oipCall(spotter.url, 'GET', '/v2/health/ready')).json).toEqual({ ready: true });
    expect((await oipCall(spotter.url, 'GET', '/v2')).status).toBe(401);
    const server = await oipCall(spotter.url, 'GET', '/v2', { headers: AUTH });
    expect(server.json).toMatchObject({ name: 'spotter', extensions: ['binary_tensor_data'] });
    const meta = await oipCall(spotter.url, 'GET', '/v2/models/yolox_nano', { headers: AUTH });
    expect(meta.json.inputs).toEqual([{ name: 'IMAGE', datatype: 'BYTES', shape: [1] }, { name: 'images', datatype: 'FP32', shape: [1, 3, 416, 416] }]);
    expect(meta.json.outputs.map((o: { name: string }) => o.name)).toEqual(['detection_boxes', 'detection_scores', 'detection_classes', 'detection_labels', 'num_detections', 'raw_output']);
    const version = meta.json.versions[0] as string;
    expect((await oipCall(spotter.url, 'GET', `/v2/models/yolox_nano/versions/${version}`, { headers: AUTH })).json).toEqual(meta.json);
    expect((await oipCall(spotter.url, 'GET', '/v2/models/yolox_nano/ready', { headers: AUTH })).json).toEqual({ name: 'yolox_nano', ready: true });
    expect((await oipCall(spotter.url, 'GET', `/v2/models/yolox_nano/versions/${version}/ready`, { headers: AUTH })).status).toBe(200);
    const unknown = await oipCall(spotter.url, 'GET', '/v2/models/nope', { headers: AUTH });
    expect([unknown.status, unknown.headers.get('spotter-error-code')]).toEqual([404, 'MODEL_NOT_FOUND']);
    expect((await oipCall(spotter.url, 'GET', '/v2/models/yolox_nano/versions/0/ready', { headers: AUTH })).status).toBe(404);
  });

  it("infers on a JPEG sent as a BYTES tensor: tritonclient's binary form and KServe's JSON form give /v1/predict's detections", async () => {
    const binary = await infer(spotter.url, 'yolox_nano', [new InferInput('IMAGE', [1], 'BYTES').setData([picture])], { headers: AUTH, requestId: 'req-1' });
    expect(binary.status).toBe(200);
    expect(binary.headers.get('inference-header-content-length')).not.toBeNull();
    expect(binary.json).toMatchObject({ model_name: 'yolox_nano', id: 'req-1' });
    expect(detectionsOf(binary.result!)).toEqual(asFloat32(expected));
    const outputs = ['detection_boxes', 'detection_scores', 'detection_classes', 'detection_labels', 'num_detections'].map((n) => new InferRequestedOutput(n, false));
    const json = await infer(spotter.url, 'yolox_nano', [new InferInput('IMAGE', [1], 'BYTES').setData([picture], false)], { headers: AUTH, outputs, flavour: 'kserve' });
    expect(json.headers.get('inference-header-content-length')).toBeNull();
    expect(detectionsOf(json.result!)).toEqual(expected);
    // The versioned route is the same model at the registry's version.
    const versioned = await infer(spotter.url, 'yolox_nano', [new InferInput('IMAGE', [1], 'BYTES').setData([picture])], { headers: AUTH, modelVersion: json.json.model_version });
    expect(detectionsOf(versioned.result!)).toEqual(asFloat32(expected));
    // The job behind it is the key's own, like any /v1 job.
    const jobId = json.json.parameters.job_id as string;
    expect((await getJson(`${spotter.url}/v1/jobs/${jobId}`, AUTH)).body.result.detections).toEqual(expected);
    expect((await getJson(`${spotter.url}/v1/jobs/${jobId}`, { authorization: `Bearer ${OTHER}` })).status).toBe(404);
  });

  it('infers on a pre-processed FP32 tensor, binary and JSON, gzip-compressed too, and returns the raw model output on request', async () => {
    const input = () => new InferInput('images', [1, 3, 416, 416], 'FP32');
    const parameters = { image_width: tensor.width, image_height: tensor.height };
    const outputs = [...['detection_boxes', 'detection_scores', 'detection_classes', 'detection_labels', 'num_detections'].map((n) => new InferRequestedOutput(n)), new InferRequestedOutput('raw_output')];
    const binary = await infer(spotter.url, 'yolox_nano', [input().setData(tensor.values)], { headers: AUTH, parameters, outputs, gzip: true });
    expect(binary.status).toBe(200);
    expect(detectionsOf(binary.result!)).toEqual(asFloat32(expected));
    const raw = binary.result!.asArray('raw_output');
    expect(raw.shape).toEqual([1, 3549, 85]);
    expect(raw.values.length).toBe(3549 * 85);
    const json = await infer(spotter.url, 'yolox_nano', [input().setData(tensor.values, false)], { headers: AUTH, parameters, outputs: outputs.slice(0, 5).map((o) => new InferRequestedOutput(o.name, false)), flavour: 'kserve' });
    expect(detectionsOf(json.result!)).toEqual(expected);
    // Without the picture's size, boxes are in the tensor's pixels.
    const unscaled = await infer(spotter.url, 'yolox_nano', [input().setData(tensor.values)], { headers: AUTH });
    const scale = 416 / Math.max(tensor.width, tensor.height);
    expect(detectionsOf(unscaled.result!)[0]!.box.x2).toBeCloseTo(expected[0]!.box.x2 * scale, 0);
  });

  it.each([
    ['a header length past the body', { headerLength: '99999' }, 400],
    ['an unknown input', { input: new InferInput('INPUT0', [1], 'BYTES').setData([Buffer.from('x')]) }, 400],
    ['a tensor of another shape', { input: new InferInput('images', [1, 3, 320, 320], 'FP32').setData(new Float32Array(3 * 320 * 320)) }, 400],
    ['fewer FP32 bytes than its shape', { input: Object.assign(new InferInput('images', [1, 3, 416, 416], 'FP32').setData(new Float32Array(10)), {}) }, 400],
    ['the classification extension', { output: { name: 'detection_scores', parameters: { classification: 3 } } }, 400],
    ['shared memory', { input: Object.assign(new InferInput('IMAGE', [1], 'BYTES'), { parameters: { shared_memory_region: 'r0', shared_memory_byte_size: 10 } }) }, 400],
    ['an unknown parameter', { parameters: { sequence_id: 7 } }, 400],
    ['an unknown output', { output: { name: 'logits' } }, 400],
    ['a picture that cannot be decoded', { picture: 'corrupt' }, 422],
    ['bytes that are no picture', { picture: 'text' }, 415],
    ['an unknown model', { model: 'nope' }, 404],
  ])('refuses %s with an OIP error answer', async (_label, c: { headerLength?: string; input?: InferInput; output?: object; parameters?: object; picture?: string; model?: string }, status) => {
    const bytes = c.picture === 'corrupt' ? await corruptPng() : c.picture === 'text' ? Buffer.from('not a picture at all') : picture;
    const input = c.input ?? new InferInput('IMAGE', [1], 'BYTES').setData([bytes]);
    const json = { inputs: [input.tensor()], ...(c.output ? { outputs: [c.output] } : {}), ...(c.parameters ? { parameters: c.parameters } : {}) };
    const headers = { ...AUTH, ...(c.headerLength ? { 'Inference-Header-Content-Length': c.headerLength } : {}) };
    const res = await oipCall(spotter.url, 'POST', `/v2/models/${c.model ?? 'yolox_nano'}/infer`, { json, binary: input.raw ? [input.raw] : [], headers });
    expect(res.status).toBe(status);
    expect(res.json.error).toMatch(/\w/);
  });

  // Last: it changes the rollout.
  it('routes a picture sent to the live model through the rollout (a canary answers and says so), a tensor never; a model that cannot load is not ready', async () => {
    expect((await oipCall(spotter.url, 'GET', '/v2/models/broken/ready', { headers: AUTH })).status).toBe(503);
    const started = await fetch(`${spotter.url}/v1/rollout`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'canary', candidate: 'yolox_nano_strict', share: 1, guards: { min_jobs: 10 } }) });
    expect(started.status).toBe(201);
    const image = await infer(spotter.url, 'yolox_nano', [new InferInput('IMAGE', [1], 'BYTES').setData([picture])], { headers: AUTH });
    expect(image.json.model_name).toBe('yolox_nano_strict');
    // The strict model keeps only boxes scoring 0.5 or more.
    expect(detectionsOf(image.result!).every((d) => d.score >= 0.5)).toBe(true);
    const tensorAnswer = await infer(spotter.url, 'yolox_nano', [new InferInput('images', [1, 3, 416, 416], 'FP32').setData(tensor.values)], { headers: AUTH, parameters: { image_width: tensor.width, image_height: tensor.height } });
    expect(tensorAnswer.json.model_name).toBe('yolox_nano');
    expect(detectionsOf(tensorAnswer.result!)).toEqual(asFloat32(expected));
  });
});
