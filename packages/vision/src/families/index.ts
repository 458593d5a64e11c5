import { detr } from './detr.js';
import { end2end } from './end2end.js';
import type { Family } from './family.js';
import { gfl } from './gfl.js';
import { ultralytics } from './ultralytics.js';
import { yolov5 } from './yolov5.js';
import { yolox } from './yolox.js';

export * from './family.js';

/**
 * Every family Spotter decodes, in the order a model's layout is guessed (the first that
 * accepts it wins). A new family is one module beside these, added here.
 */
export const FAMILIES: readonly Family[] = [yolox, ultralytics, end2end, yolov5, detr, gfl];

/** Names a manifest's `format` may also use for a family. */
const ALIASES: Record<string, string> = { yolov8: 'ultralytics', yolo11: 'ultralytics', yolov10: 'end2end', yolo26: 'end2end', nanodet: 'gfl', picodet: 'gfl', 'rt-detr': 'detr', 'd-fine': 'detr', deim: 'detr' };

/** The family of a format name (or alias), or undefined. */
export function familyNamed(format: string): Family | undefined {
  const name = ALIASES[format] ?? format;
  return FAMILIES.find((f) => f.name === name);
}

/** The names `format` accepts, for messages. */
export const formatNames = () => [...FAMILIES.map((f) => f.name), ...Object.keys(ALIASES)];
