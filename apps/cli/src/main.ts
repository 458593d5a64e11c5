/**
 * `npm run spotter -- <command>`:
 *   eval --data <dir> [--model <name|file.onnx>] [--baseline <report.json|model>] [--predictions <coco-results.json>] [--tags <tags.json>] --out <dir> [--store]
 *   rollout status | shadow <model> [--every N] | canary <model> [--share S] | promote [--force] | rollback
 *   monitor reference --images <dir> [--model <name>]
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '@spotter/config';
import { createStorage } from '@spotter/storage';
import { evalCommand } from './eval-command.js';
import { monitorReferenceCommand } from './monitor-command.js';
import { rolloutCommand } from './rollout-command.js';

const USAGE = [
  'usage: spotter eval --data <dir> [--model <name|file.onnx>] [--baseline <report.json|model>] [--predictions <coco-results.json>] [--tags <tags.json>] --out <dir> [--store]',
  '       spotter rollout status | shadow <model> [--every N] | canary <model> [--share S] | promote [--force] | rollback',
  '       spotter monitor reference --images <dir> [--model <name>]',
].join('\n');

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
        baseline: { type: 'string' },
        predictions: { type: 'string' },
        // {"<image file>": ["tag", ...]}: user slices (the promotion gate protects a manifest's important_tags).
        tags: { type: 'string' },
        // Also into Spotter's storage (reports/<id>/), where the API and the console list it.
        store: { type: 'boolean' },
      },
    });
    if (!values.data || !values.out) throw new Error(USAGE);
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
  } else if (command === 'rollout') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { every: { type: 'string' }, share: { type: 'string' }, force: { type: 'boolean' } } });
    console.log(JSON.stringify(await rolloutCommand(positionals, values, config), null, 2));
  } else if (command === 'monitor') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { images: { type: 'string' }, model: { type: 'string' } } });
    if (positionals[0] !== 'reference' || !values.images) throw new Error(USAGE);
    console.log(JSON.stringify(await monitorReferenceCommand({ images: values.images, model: values.model }, config), null, 2));
  } else {
    throw new Error(USAGE);
  }
} catch (err) {
  console.error(`spotter: ${(err as Error).message}`);
  process.exit(2);
}
