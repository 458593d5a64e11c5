/**
 * `npm run spotter -- <command>`:
 *   eval --data <dir> --models a,b,c --out <dir>
 *   eval --data <dir> [--model <name|file.onnx>] [--baseline <report.json|model>] [--predictions <coco-results.json>] [--tags <tags.json>] --out <dir> [--store]
 *   rollout status | shadow <model> [--every N] | canary <model> [--share S] | promote [--force] | rollback
 *   monitor reference --images <dir> [--model <name>]
 *   batch <folder|archive> --out <results.jsonl> [--model <name>] [--min-score S] [--url URL] [--key KEY]
 *   models add <file.onnx> [--name N] [--format F] [--labels coco|<file>] [--preprocess key=value ...] [--eval <dataset>] [--sample <dir>] [--force]
 *   video <file> [--out <dir>] [--fps N|all] [--model <name>] [--min-score S] [--classes a,b] [--lines <json>] [--zones <json>] [--units pixels|normalized] [--segment-s S] [--url URL] [--key KEY]
 *   quantize --model <name|file.onnx> --calibration <image dir> [--images N] [--method minmax|percentile|entropy] --out <name>
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '@spotter/config';
import { CALIBRATION_METHODS, type CalibrationMethod } from '@spotter/quantize';
import { createStorage } from '@spotter/storage';
import { apiClient, cliMessage } from './api-client.js';
import { batchCommand } from './batch-command.js';
import { compareCommand } from './compare-command.js';
import { evalCommand } from './eval-command.js';
import { modelsAddCommand } from './models-command.js';
import { monitorReferenceCommand } from './monitor-command.js';
import { quantizeCommand, quantizeTable } from './quantize-command.js';
import { rolloutCommand } from './rollout-command.js';
import { videoCommand } from './video-command.js';

const USAGE = [
  'usage: spotter eval --data <dir> --models a,b,c --out <dir>',
  '       spotter eval --data <dir> [--model <name|file.onnx>] [--baseline <report.json|model>] [--predictions <coco-results.json>] [--tags <tags.json>] --out <dir> [--store]',
  '       spotter rollout status | shadow <model> [--every N] | canary <model> [--share S] | promote [--force] | rollback',
  '       spotter monitor reference --images <dir> [--model <name>]',
  '       spotter batch <folder|archive> --out <results.jsonl> [--model <name>] [--min-score S] [--url URL] [--key KEY]',
  '       spotter models add <file.onnx> [--name N] [--format F] [--labels coco|<file>] [--preprocess key=value ...] [--eval <dataset>] [--sample <dir>] [--force]',
  '       spotter video <file> [--out <dir>] [--fps N|all] [--model <name>] [--min-score S] [--classes a,b] [--lines <json>] [--zones <json>] [--units pixels|normalized] [--segment-s S]',
  '       spotter quantize --model <name|file.onnx> --calibration <image dir> [--images N] [--method minmax|percentile|entropy] --out <name>',
  '                        [--eval-data <dataset>] [--keep-float <regex>] [--runs N] [--no-browser]',
].join('\n');

// A bar redrawn in place on a terminal; a line now and then in logs.
let last = 0;
const onProgress = (line: string) => {
  if (process.stderr.isTTY) return void process.stderr.write(`\r${line.padEnd(100)}`);
  if (Date.now() - last > 5000 || !line.startsWith('[')) (last = Date.now()), process.stderr.write(`${line}\n`);
};

const [command, ...rest] = process.argv.slice(2);
const config = loadConfig(process.env);
try {
  if (command === 'eval') {
    const { values } = parseArgs({
      args: rest,
      options: {
        data: { type: 'string' },
        out: { type: 'string' },
        model: { type: 'string' },
        // a,b,c: one comparison of accuracy against cost (comparison.json, comparison.html).
        models: { type: 'string' },
        baseline: { type: 'string' },
        predictions: { type: 'string' },
        // {"<image file>": ["tag", ...]}: user slices (the promotion gate protects a manifest's important_tags).
        tags: { type: 'string' },
        // Also into Spotter's storage (reports/<id>/), where the API and the console list it.
        store: { type: 'boolean' },
      },
    });
    if (!values.data || !values.out) throw new Error(USAGE);
    if (values.models) {
      const c = await compareCommand({ data: values.data, out: values.out, models: values.models.split(',').filter(Boolean) }, config);
      for (const m of c.models) console.log(`${m.name.padEnd(24)} ${m.format.padEnd(12)} AP ${m.metrics.AP}  AP50 ${m.metrics.AP50}  ${m.cpu_ms_per_image} CPU-ms/image  ${m.file_bytes} bytes`);
      console.log(`comparison: ${values.out}/comparison.html`);
    } else {
      const report = await evalCommand(
        {
          data: values.data,
          out: values.out,
          model: values.model,
          predictions: values.predictions,
          baseline: values.baseline,
          tags: values.tags,
          storage: values.store ? await createStorage(config.storage) : undefined,
        },
        config,
      );
      const m = report.metrics;
      console.log(
        `AP ${m.AP}  AP50 ${m.AP50}  AP75 ${m.AP75}  APs ${m.APs}  APm ${m.APm}  APl ${m.APl}  AR1 ${m.AR1}  AR10 ${m.AR10}  AR100 ${m.AR100}` +
          (report.timing ? `  (${report.dataset.images} images in ${report.timing.seconds} s)` : ''),
      );
      if (report.baseline) console.log(`vs baseline: AP ${report.baseline.diff.AP! >= 0 ? '+' : ''}${report.baseline.diff.AP}; worse on ${report.baseline.worse.length} slices`);
      console.log(`report: ${values.out}/report.html`);
      if (report.stored) console.log(`stored as report ${report.stored} (GET /v1/reports/${report.stored}, console: /console/#/reports)`);
    }
  } else if (command === 'rollout') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { every: { type: 'string' }, share: { type: 'string' }, force: { type: 'boolean' }, url: { type: 'string' }, key: { type: 'string' } } });
    console.log(JSON.stringify(await rolloutCommand(apiClient(config, values), positionals, values), null, 2));
  } else if (command === 'monitor') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { images: { type: 'string' }, model: { type: 'string' } } });
    if (positionals[0] !== 'reference' || !values.images) throw new Error(USAGE);
    console.log(JSON.stringify(await monitorReferenceCommand({ images: values.images, model: values.model }, config), null, 2));
  } else if (command === 'batch') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { out: { type: 'string' }, model: { type: 'string' }, 'min-score': { type: 'string' }, url: { type: 'string' }, key: { type: 'string' } },
    });
    if (!positionals[0] || !values.out) throw new Error(USAGE);
    const batch = await batchCommand(apiClient(config, values), { input: positionals[0], out: values.out, model: values.model, minScore: values['min-score'], onProgress });
    if (process.stderr.isTTY) process.stderr.write('\n');
    const c = batch.counts;
    console.log(`batch ${batch.id} ${batch.status}: ${c.succeeded} succeeded, ${c.failed} failed, ${c.cancelled} cancelled, ${c.skipped} skipped; results: ${values.out}`);
  } else if (command === 'models') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        format: { type: 'string' },
        labels: { type: 'string' },
        preprocess: { type: 'string', multiple: true },
        eval: { type: 'string' },
        sample: { type: 'string' },
        force: { type: 'boolean' },
      },
    });
    if (positionals[0] !== 'add' || !positionals[1]) throw new Error(USAGE);
    // `--preprocess a=1 b=2`: the pairs after the first come as positionals.
    const pairs = [...(values.preprocess ?? []), ...positionals.slice(2).filter((p) => p.includes('='))];
    const extra = positionals.slice(2).filter((p) => !p.includes('='));
    if (extra.length) throw new Error(`unexpected argument ${extra[0]}\n${USAGE}`);
    const added = await modelsAddCommand(
      { file: positionals[1], ...values, preprocess: pairs, storage: await createStorage(config.storage), say: (line) => console.log(line) },
      config,
    );
    console.log(JSON.stringify(added.manifest, null, 2));
    console.log(`registered ${added.model.name} (${added.model.format}, sha256 ${added.model.digest?.slice(0, 12)}) in Spotter's storage: every API and worker serves it within SPOTTER_MODEL_REFRESH_S`);
  } else if (command === 'video') {
    const names = ['fps', 'model', 'min-score', 'classes', 'lines', 'zones', 'units', 'segment-s'] as const;
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { out: { type: 'string' }, url: { type: 'string' }, key: { type: 'string' }, ...Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])) },
    });
    if (!positionals[0]) throw new Error(USAGE);
    const given = values as Record<string, string | undefined>;
    const fields = Object.fromEntries(names.flatMap((n) => (given[n] === undefined ? [] : [[n.replace('-', '_'), given[n]!]])));
    const video = await videoCommand(apiClient(config, values), { file: positionals[0], out: values.out, fields, onProgress });
    if (process.stderr.isTTY) process.stderr.write('\n');
    if (video.status !== 'succeeded') throw new Error(`video ${video.id} ${video.status}: ${video.error?.code}: ${video.error?.message}`);
    const s = video.summary!;
    console.log(`video ${video.id} succeeded: ${s.frames} frames, ${s.tracks} tracks (${Object.entries(s.tracks_by_class).map(([k, n]) => `${k} ${n}`).join(', ')}), realtime factor ${s.realtime_factor}${values.out ? `; results: ${values.out}` : ''}`);
  } else if (command === 'quantize') {
    const { values } = parseArgs({
      args: rest,
      options: {
        model: { type: 'string' },
        calibration: { type: 'string' },
        images: { type: 'string' },
        method: { type: 'string' },
        out: { type: 'string' },
        'eval-data': { type: 'string' },
        'keep-float': { type: 'string' },
        runs: { type: 'string' },
        'no-browser': { type: 'boolean' },
      },
    });
    if (!values.model || !values.calibration || !values.out) throw new Error(USAGE);
    if (values.method && !CALIBRATION_METHODS.includes(values.method as CalibrationMethod)) throw new Error(`--method must be one of ${CALIBRATION_METHODS.join(', ')}`);
    const summary = await quantizeCommand(
      {
        model: values.model,
        calibration: values.calibration,
        images: values.images ? Number(values.images) : undefined,
        method: values.method as CalibrationMethod | undefined,
        out: values.out,
        evalData: values['eval-data'],
        keepFloat: values['keep-float'],
        runs: values.runs ? Number(values.runs) : undefined,
        chromium: values['no-browser'] ? null : undefined,
      },
      config,
    );
    console.log(quantizeTable(summary));
    console.log(`calibrated on ${summary.calibration_images} images, evaluated on ${summary.held_out_images} held-out images`);
    console.log(`registered ${summary.model.manifest}\nevaluation: ${summary.model.eval_report}`);
  } else {
    throw new Error(USAGE);
  }
} catch (err) {
  console.error(`spotter: ${cliMessage(err)}`);
  process.exit(2);
}
