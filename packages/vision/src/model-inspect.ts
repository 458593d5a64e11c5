import type { ModelManifest, PreprocessManifest } from '@spotter/shared';
import { COCO91_LABELS, COCO_LABELS } from './coco-labels.js';
import { fileHints, type FileHints } from './file-metadata.js';
import { FAMILIES, familyNamed, formatNames, type Family } from './families/index.js';
import { describeIO, shapeText, type ModelIO } from './model-io.js';
import { findImageInput, resolvePreprocess, resolveSize } from './model-plan.js';
import type { Preprocess, PreprocessSettings } from './preprocess.js';

/** What registration decided about a file, and why, line by line. */
export interface Inspection {
  family: Family;
  labels: ModelManifest['labels'];
  preprocess: Preprocess;
  /** The manifest fields this decides: format, labels, preprocess (every setting, spelled out). */
  manifest: Pick<ModelManifest, 'format' | 'labels' | 'preprocess'>;
  /** Why, for people: the family and what it saw, the families that did not fit, size, labels, settings. */
  reasons: string[];
}

export class InspectionError extends Error {
  override name = 'InspectionError';
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** A label list as a manifest spells it: `coco` and `coco91` when it is one of those. */
function manifestLabels(names: readonly string[]): ModelManifest['labels'] {
  if (same(names, COCO_LABELS)) return 'coco';
  if (same(names, COCO91_LABELS)) return 'coco91';
  return [...names];
}

const describe = (p: Preprocess) =>
  `${p.resize === 'stretch' ? 'stretch' : `letterbox ${p.pad}, padded with ${p.padValue}`}, ${p.channels.toUpperCase()}, x ${p.scale === 1 / 255 ? '1/255' : p.scale}` +
  (p.mean.some((v) => v !== 0) ? `, minus mean [${p.mean.join(', ')}]` : '') +
  (p.std.some((v) => v !== 1) ? `, divided by std [${p.std.join(', ')}]` : '');

/** Resolved settings as manifest fields. */
export function preprocessManifest(p: Preprocess): PreprocessManifest {
  return {
    resize: p.resize,
    pad: p.pad,
    pad_value: p.padValue,
    channels: p.channels,
    scale: p.scale,
    mean: [...p.mean] as [number, number, number],
    std: [...p.std] as [number, number, number],
    size: p.width === p.height ? p.width : [p.width, p.height],
    ...(Object.keys(p.inputs).length ? { inputs: { ...p.inputs } } : {}),
  };
}

/**
 * Decides a file's family, labels and pre-processing from its graph and metadata (and what
 * the user said: a format, labels, settings), explaining each choice. InspectionError, with
 * one line naming the input and output shapes and every family tried, when none fits.
 */
export function inspectModel(io: ModelIO, metadata: Record<string, string>, given: { format?: string | undefined; labels?: readonly string[] | undefined; preprocess?: PreprocessSettings | undefined } = {}): Inspection {
  const hints: FileHints = fileHints(metadata);
  const image = findImageInput(io);
  if (typeof image === 'string') throw new InspectionError(`${image}; ${describeIO(io)}`);
  const named = given.format !== undefined;
  const candidates = named ? [familyNamed(given.format!)] : FAMILIES;
  if (candidates[0] === undefined) throw new InspectionError(`unknown format "${given.format}" (known: ${formatNames().join(', ')})`);
  const classes = given.labels?.length ?? hints.names?.length ?? null;
  const tried: string[] = [];
  for (const family of candidates as Family[]) {
    const size = resolveSize(image, given.preprocess ?? {}, hints, family, 'model');
    const verdict = family.accepts(io, { size, classes, hints, named });
    if (!verdict.ok) {
      tried.push(`${family.name} (${verdict.why})`);
      continue;
    }
    const preprocess = resolvePreprocess(family, given.preprocess ?? {}, size, image.layout, io, image.input.name);
    const names = given.labels ?? hints.names ?? (verdict.classes === 80 ? COCO_LABELS : verdict.classes === 91 ? COCO91_LABELS : Array.from({ length: verdict.classes }, (_, i) => `class_${i}`));
    const coco = verdict.classes === 80 ? 'COCO' : 'COCO (original 91 ids)';
    const labelsFrom = given.labels ? `${names.length} as given` : hints.names ? `${names.length} from the file's metadata (names)` : verdict.classes === 80 || verdict.classes === 91 ? `${coco}, by the class count (the file names none)` : `${names.length} numbered (the file names none; give --labels)`;
    const overridden = Object.keys(given.preprocess ?? {}).filter((k) => k !== 'size');
    const reasons = [
      `family ${family.name} (${family.title}): ${verdict.why}${named ? ' (format as given)' : ''}`,
      ...tried.map((t) => `not ${t}`),
      `input ${image.input.name} ${shapeText(image.input.shape)}: ${size.width}x${size.height}, ${image.layout.toUpperCase()}, size from ${size.from}`,
      `pre-processing: ${describe(preprocess)} (${overridden.length ? `${family.name} defaults, ${overridden.join(', ')} as given` : `${family.name} defaults`})`,
      ...Object.entries(preprocess.inputs).map(([name, source]) => `input ${name}: fed with ${source}`),
      `labels: ${labelsFrom}`,
      ...(hints.end2end !== undefined ? [`metadata end2end: ${hints.end2end ? 'True' : 'False'}`] : []),
    ];
    return { family, labels: manifestLabels(names), preprocess, manifest: { format: family.name, labels: manifestLabels(names), preprocess: preprocessManifest(preprocess) }, reasons };
  }
  throw new InspectionError(`no family reads this model: ${describeIO(io)}; tried ${tried.join('; ')}`);
}
