import { ModelError, type ModelManifest } from '@spotter/shared';
import { COCO91_LABELS, COCO_LABELS } from './coco-labels.js';
import type { DecodeOptions } from './families/index.js';
import type { PreprocessSettings } from './preprocess.js';

/** What pre- and post-processing need to know about a model, from its manifest. */
export interface ModelSpec {
  name: string;
  /** Version shown in results (the manifest's, or a prefix of the file's sha256). */
  version: string;
  /** The family (families/): how its outputs are laid out and its default pre-processing. */
  format: string;
  labels: readonly string[];
  /** The manifest's pre-processing settings; the rest are the family's defaults. */
  preprocess: PreprocessSettings;
  decode: DecodeOptions;
  iouThreshold: number;
  maxDetections: number;
  /** Floor under the caller's min score. */
  minScore: number;
}

/** `coco`, `coco91` or a list: the class names. */
export const labelsOf = (labels: ModelManifest['labels']): readonly string[] => (labels === 'coco' ? COCO_LABELS : labels === 'coco91' ? COCO91_LABELS : labels);

type Size = ModelManifest['input_size'];
const sizeOf = (s: NonNullable<Size>) => (typeof s === 'number' ? { width: s, height: s } : { width: s[0], height: s[1] });

/** A manifest's `preprocess` (and legacy `input_size`) in the pipeline's terms. */
export function preprocessSettings(m: Pick<ModelManifest, 'preprocess' | 'input_size' | 'name'>): PreprocessSettings {
  const p = m.preprocess ?? {};
  const a = p.size !== undefined ? sizeOf(p.size) : undefined;
  const b = m.input_size !== undefined ? sizeOf(m.input_size) : undefined;
  if (a && b && (a.width !== b.width || a.height !== b.height)) throw new ModelError(`model "${m.name}": preprocess.size and input_size disagree`);
  const s: PreprocessSettings = {};
  if (a ?? b) s.size = (a ?? b)!;
  if (p.resize) s.resize = p.resize;
  if (p.pad) s.pad = p.pad;
  if (p.pad_value !== undefined) s.padValue = p.pad_value;
  if (p.channels) s.channels = p.channels;
  if (p.scale !== undefined) s.scale = p.scale;
  if (p.mean) s.mean = p.mean;
  if (p.std) s.std = p.std;
  if (p.inputs) s.inputs = p.inputs;
  return s;
}

/** How to pre- and post-process a model described by a registry manifest. */
export function specFromManifest(m: ModelManifest & { version?: string | undefined }, version = m.version ?? 'unversioned'): ModelSpec {
  return {
    name: m.name,
    version,
    format: m.format,
    labels: labelsOf(m.labels),
    preprocess: preprocessSettings(m),
    decode: { ...(m.decode?.scores ? { scores: m.decode.scores } : {}), ...(m.decode?.grid_offset !== undefined ? { gridOffset: m.decode.grid_offset } : {}) },
    iouThreshold: m.nms_iou,
    maxDetections: m.max_detections,
    minScore: m.score_threshold,
  };
}
