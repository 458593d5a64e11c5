// The model run in the browser with onnxruntime-web: the only browser-specific parts are
// getting the file and getting fitted RGB pixels; pre- and post-processing are @spotter/vision,
// the very code the workers run.
import type { Detection } from '@spotter/shared';
import { blankInput, buildFeeds, fitGeometry, outputTensors, planFit, planForFile, postprocess, resizeLinear, specFromManifest, type Feed, type ModelInput, type ModelPlan, type RawOutput } from '@spotter/vision';
import type { InferenceSession } from 'onnxruntime-web';
import { ApiError, apiFetch } from './api.js';

/** GET /v1/models/{name}: the manifest as the registry read it. */
export type ModelManifestView = Parameters<typeof specFromManifest>[0] & { version: string; available: boolean; problem: string | null };

export interface EdgeModel {
  name: string;
  version: string;
  /** Family, pre-processing and inputs, decided from the manifest and the file as the worker decides them. */
  plan: ModelPlan;
  backend: 'webgpu' | 'wasm';
  threads: number;
  download: { bytes: number; ms: number; fromCache: boolean };
  /** Session creation plus one warm-up run, as the worker does at start. */
  loadMs: number;
  session: InferenceSession;
  /** Runs the session on the pipeline's feeds; outputs as the decoders read them. */
  run: (feeds: Feed[]) => Promise<RawOutput[]>;
}

export interface EdgeRun {
  detections: Detection[];
  timings: { decode: number; inference: number; postprocess: number };
}

type GpuNavigator = Navigator & { gpu?: { requestAdapter(): Promise<unknown> } };

/** Whether a WebGPU adapter is there (headless and GPU-less browsers say no). */
export async function webGpuAvailable(): Promise<boolean> {
  const gpu = (navigator as GpuNavigator).gpu;
  return gpu ? (await gpu.requestAdapter().catch(() => null)) !== null : false;
}

/** WASM threads need cross-origin isolation (COOP + COEP, which the API sends on /console). */
export const wasmThreads = () => (globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1);

async function download(name: string, onProgress: (done: number, total: number) => void) {
  const url = `/v1/models/${encodeURIComponent(name)}/file`;
  const t0 = performance.now();
  const res = await apiFetch(url);
  const total = Number(res.headers.get('content-length') ?? 0);
  const reader = res.body!.getReader();
  const parts: Uint8Array[] = [];
  let done = 0;
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) break;
    parts.push(value);
    done += value.length;
    onProgress(done, total);
  }
  const bytes = new Uint8Array(done);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  const ms = performance.now() - t0;
  // Resource timing tells a network download from the HTTP cache (transferSize: headers only).
  const entry = performance.getEntriesByName(new URL(url, location.href).href).at(-1) as PerformanceResourceTiming | undefined;
  const fromCache = entry ? entry.transferSize < done / 2 : false;
  return { bytes, info: { bytes: done, ms, fromCache } };
}

/** Downloads a registered model from the API and opens it in onnxruntime-web (WebGPU when present, else WASM). */
export async function loadEdgeModel(manifest: ModelManifestView, onProgress: (done: number, total: number) => void): Promise<EdgeModel> {
  if (!manifest.available) throw new ApiError(404, 'MODEL_FILE_UNAVAILABLE', `The model ${manifest.name} cannot be run: ${manifest.problem}.`);
  const gpu = await webGpuAvailable();
  // The JSEP build carries WebGPU and weighs twice as much: fetched only when a GPU is there.
  const ort = gpu ? await import('onnxruntime-web') : await import('onnxruntime-web/wasm');
  ort.env.wasm.wasmPaths = __ORT_PATH__;
  ort.env.wasm.numThreads = wasmThreads();
  const { bytes, info } = await download(manifest.name, onProgress);
  const plan = planForFile(specFromManifest(manifest, manifest.version), bytes);
  const t0 = performance.now();
  const backend = gpu ? 'webgpu' : 'wasm';
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [backend], graphOptimizationLevel: 'all' });
  const run = async (feeds: Feed[]): Promise<RawOutput[]> => {
    const inputs = Object.fromEntries(feeds.map((f) => [f.name, new ort.Tensor(f.type as 'float32', f.data as Float32Array, f.dims)]));
    const out = await session.run(inputs);
    return session.outputNames.map((name) => ({ name, type: out[name]!.type, data: out[name]!.data as ArrayLike<number | bigint>, dims: out[name]!.dims }));
  };
  await run(buildFeeds(plan, blankInput(plan.preprocess)));
  return { name: manifest.name, version: manifest.version, plan, backend, threads: backend === 'wasm' ? ort.env.wasm.numThreads ?? 1 : 0, download: info, loadMs: performance.now() - t0, session, run };
}

/**
 * The picture as displayed (EXIF orientation applied), fitted to the model input with
 * `fitGeometry` and `resizeLinear`: the browser's counterpart of the worker's decodeToFit. The
 * canvas only decodes (its JPEG decoder gives the very bytes libvips does); its own
 * resampling differs from libvips' enough to move a box, so the resize is vision's.
 */
export async function fittedPixels(file: Blob, plan: ModelPlan): Promise<ModelInput> {
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const { width, height } = bitmap;
  const fit = fitGeometry(width, height, planFit(plan));
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  // Transparent areas become grey 114, as the worker flattens them.
  ctx.fillStyle = 'rgb(114, 114, 114)';
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  return { width, height, pixels: resizeLinear(rgb, width, height, fit.fitWidth, fit.fitHeight), ...fit };
}

/** One detection run in the browser, timed by stage as the worker times its own. */
export async function runEdge(model: EdgeModel, file: Blob, minScore: number): Promise<EdgeRun> {
  const t0 = performance.now();
  const img = await fittedPixels(file, model.plan);
  const feeds = buildFeeds(model.plan, img);
  const t1 = performance.now();
  const outputs = await model.run(feeds);
  const t2 = performance.now();
  const detections = postprocess(model.plan, outputTensors(outputs), img, minScore);
  const t3 = performance.now();
  return { detections, timings: { decode: t1 - t0, inference: t2 - t1, postprocess: t3 - t2 } };
}
