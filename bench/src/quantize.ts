/**
 * int8 variants of the model side by side, on this machine: file size, inference time in
 * onnxruntime-node and in onnxruntime-web (WASM, headless Chromium), the ONNX Runtime
 * profile of the float and default int8 models, and COCO AP on the held-out half of the
 * dataset (calibration on the other half). Writes JSON and markdown; runs on its own:
 *   npm run bench -- quantize [--data <dir>] [--images N] [--runs N] [--browser-runs N] [--out <json>]
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EVAL_DEFAULTS, evaluate, loadDataset, predictDataset, subsetDataset, summarize, type Dataset } from '@spotter/evaluation';
import {
  calibrationTensors,
  collectStats,
  DEFAULT_QUANTIZE,
  graphOf,
  planQdq,
  profileInBrowser,
  profileInNode,
  QUANTIZABLE_OPS,
  quantizeWithStats,
  readModel,
  splitCalibration,
  timeInBrowser,
  timeInNode,
  type QuantizeOptions,
  type Timing,
} from '@spotter/quantize';
import { ModelManifest } from '@spotter/shared';
import { planForFile, specFromManifest } from '@spotter/vision';
import { root } from '../../scripts/lib.mjs';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: path.join(root, 'models', 'yolox_nano.onnx') },
    data: { type: 'string', default: path.resolve(root, '..', 'shared', 'datasets', 'coco-val128') },
    images: { type: 'string', default: '64' },
    runs: { type: 'string', default: '100' },
    'browser-runs': { type: 'string', default: '40' },
    out: { type: 'string', default: path.join(root, 'bench', 'results', 'quantize.json') },
  },
});
const say = (msg: string) => process.stderr.write(`[quantize-bench] ${msg}\n`);

/** The variants measured: the default and what it was chosen against. */
const VARIANTS: { name: string; what: string; opts: QuantizeOptions }[] = [
  { name: 'all-int8-entropy', what: 'every layer but the output layers int8, entropy', opts: { ...DEFAULT_QUANTIZE, keepFloat: undefined, keepDepthwiseFloat: false, method: 'entropy' } },
  { name: 'all-int8-minmax', what: 'every layer but the output layers int8, min-max', opts: { ...DEFAULT_QUANTIZE, keepFloat: undefined, keepDepthwiseFloat: false, method: 'minmax' } },
  { name: 'default', what: 'stem, dark2 and depthwise convs (with their SiLU) float, min-max, u8 activations', opts: DEFAULT_QUANTIZE },
  { name: 'default-dw-int8', what: 'default, depthwise convs int8 too', opts: { ...DEFAULT_QUANTIZE, keepDepthwiseFloat: false } },
  { name: 'default-percentile', what: 'default, percentile 99.99', opts: { ...DEFAULT_QUANTIZE, method: 'percentile' } },
  { name: 'default-entropy', what: 'default, entropy (KL)', opts: { ...DEFAULT_QUANTIZE, method: 'entropy' } },
  { name: 'default-s8', what: 'default, s8 activations', opts: { ...DEFAULT_QUANTIZE, activationType: 'int8' } },
  { name: 'default-silu-float', what: 'default, SiLU (Sigmoid, Mul) float', opts: { ...DEFAULT_QUANTIZE, ops: QUANTIZABLE_OPS.filter((o) => o !== 'Sigmoid' && o !== 'Mul') } },
];

const dataset = await loadDataset(args.data);
const split = splitCalibration(dataset.images, (i) => i.file);
const heldOutIds = new Set(split.heldOut.map((i) => i.id));
const evalSet = subsetDataset(dataset, (i) => heldOutIds.has(i.id));
const calibrationFiles = split.calibration.slice(0, Number(args.images)).map((i) => i.file);
const floatBytes = await readFile(args.model);
const model = readModel(floatBytes);
const spec = specFromManifest(ModelManifest.parse({ name: 'float', file: path.basename(args.model) }), 'float');
const plan = planForFile(spec, floatBytes);

say(`calibrating on ${calibrationFiles.length} images, evaluating on ${evalSet.images.length} held-out images`);
let t0 = performance.now();
const inputs = await calibrationTensors(calibrationFiles, plan, 4e8);
const tensors = [...new Set(VARIANTS.flatMap((v) => planQdq(graphOf(model), v.opts).tensors))];
const stats = await collectStats(model, tensors, inputs, { histograms: true });
const calibrationSeconds = (performance.now() - t0) / 1000;

async function accuracy(file: string, data: Dataset) {
  const s = { ...spec, iouThreshold: EVAL_DEFAULTS.iouThreshold, maxDetections: EVAL_DEFAULTS.maxDetections };
  const run = await predictDataset(data, s, file, { executionProviders: ['cpu'] }, { minScore: EVAL_DEFAULTS.minScore, maxPixels: 4e8 });
  const m = summarize(evaluate(data.annotations, run.predictions, data.images.map((i) => i.id), data.categories.map((c) => c.id)));
  const r = (v: number) => Math.round(v * 10000) / 10000;
  return { AP: r(m.AP), AP50: r(m.AP50), AP75: r(m.AP75), APs: r(m.APs), APm: r(m.APm), APl: r(m.APl) };
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-quantize-bench-'));
const models: { name: string; what: string; bytes: Uint8Array; file: string; quantizedOps: Record<string, number> }[] = [
  { name: 'float', what: 'the float model', bytes: new Uint8Array(floatBytes), file: args.model, quantizedOps: {} },
];
for (const v of VARIANTS) {
  t0 = performance.now();
  const r = quantizeWithStats(model, stats, v.opts);
  const file = path.join(dir, `${v.name}.onnx`);
  await writeFile(file, r.bytes);
  models.push({ name: v.name, what: v.what, bytes: r.bytes, file, quantizedOps: r.quantizedOps });
}
const rows: { name: string; what: string; bytes: number; quantized_ops: Record<string, number>; accuracy: Awaited<ReturnType<typeof accuracy>> }[] = [];
for (const m of models) {
  say(`accuracy: ${m.name}`);
  rows.push({ name: m.name, what: m.what, bytes: m.bytes.length, quantized_ops: m.quantizedOps, accuracy: await accuracy(m.file, evalSet) });
}

const [input] = await calibrationTensors([split.heldOut[0]!.file], plan, 4e8);
// The machine is shared: the load around the timings says how much to trust them.
const loadBefore = os.loadavg().map((v) => Math.round(v * 100) / 100);
const timing: Record<string, Record<string, unknown>> = {};
for (const threads of [1, 2]) {
  say(`onnxruntime-node, ${threads} thread(s)`);
  timing[`node_${threads}t`] = Object.fromEntries(await timeInNode(models, input!, { runs: Number(args.runs), threads }));
  say(`onnxruntime-web in Chromium, ${threads} thread(s)`);
  timing[`browser_${threads}t`] = Object.fromEntries(await timeInBrowser(models, input!, { runs: Number(args['browser-runs']), threads }));
}
say('profiles');
const profiles: Record<string, unknown> = {};
for (const name of ['float', 'all-int8-minmax', 'default-dw-int8', 'default']) {
  const bytes = models.find((m) => m.name === name)!.bytes;
  for (const threads of [1, 2]) profiles[`node_${name}_${threads}t`] = await profileInNode(bytes, input!, { runs: 20, threads });
  profiles[`browser_${name}_1t`] = await profileInBrowser(bytes, input!, { runs: 10, threads: 1 });
}
await rm(dir, { recursive: true, force: true });

const cpu = os.cpus();
const result = {
  date: new Date().toISOString(),
  machine: { cpu: cpu[0]?.model, cores: cpu.length, load_average_before_timing: loadBefore, load_average_after: os.loadavg().map((v) => Math.round(v * 100) / 100) },
  model: args.model,
  dataset: { path: args.data, calibration_images: calibrationFiles.length, held_out_images: evalSet.images.length },
  calibration_seconds: Math.round(calibrationSeconds),
  variants: rows.map((r) => ({
    ...r,
    ap_delta: Object.fromEntries(Object.entries(r.accuracy).map(([k, v]) => [k, Math.round((v - rows[0]!.accuracy[k as keyof typeof r.accuracy]) * 10000) / 10000])),
    timing: Object.fromEntries(Object.entries(timing).map(([k, byModel]) => [k, byModel[r.name]])),
  })),
  profiles,
};
await mkdir(path.dirname(args.out), { recursive: true });
await writeFile(args.out, JSON.stringify(result, null, 2) + '\n');

const ms = (t: unknown) => `${(t as Timing).median_ms.toFixed(1)} / ${(t as Timing).p10_ms.toFixed(1)} / ${(t as Timing).cpu_ms?.toFixed(1)}`;
const md = [
  `# spotter quantize: variants (${result.machine.cpu}, ${result.machine.cores} cores, ${result.date.slice(0, 10)})`,
  '',
  `Calibration: ${calibrationFiles.length} even-indexed images of ${path.basename(args.data)}; accuracy on the ${evalSet.images.length} odd-indexed ones. Times: ms per inference as median wall / p10 wall / CPU (all threads summed), models interleaved in rounds; load average ${loadBefore.join(' ')} before the timings, ${result.machine.load_average_after.join(' ')} after.`,
  '',
  '| variant | size MB | node 1t | node 2t | browser 1t | browser 2t | AP | dAP | AP50 | AP75 | APs | APm | APl |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...result.variants.map((v) =>
    `| ${v.name} | ${(v.bytes / 1e6).toFixed(2)} | ${ms(v.timing.node_1t)} | ${ms(v.timing.node_2t)} | ${ms(v.timing.browser_1t)} | ${ms(v.timing.browser_2t)} | ${v.accuracy.AP.toFixed(4)} | ${v.ap_delta.AP! >= 0 ? '+' : ''}${v.ap_delta.AP!.toFixed(4)} | ${v.accuracy.AP50.toFixed(4)} | ${v.accuracy.AP75.toFixed(4)} | ${v.accuracy.APs.toFixed(4)} | ${v.accuracy.APm.toFixed(4)} | ${v.accuracy.APl.toFixed(4)} |`,
  ),
  '',
  ...VARIANTS.map((v) => `- ${v.name}: ${v.what}`),
  '',
  '## ONNX Runtime profiles (kernel ms per inference by op; onnxruntime-node, and onnxruntime-web in Chromium)',
  '',
  ...Object.entries(profiles).flatMap(([k, ops]) => [
    `- ${k}: ` + (ops as { op: string; nodes: number; ms: number }[]).slice(0, 10).map((o) => `${o.op} x${o.nodes} ${o.ms.toFixed(2)}`).join(', '),
  ]),
  '',
].join('\n');
await writeFile(args.out.replace(/\.json$/, '.md'), md);
console.log(md);
