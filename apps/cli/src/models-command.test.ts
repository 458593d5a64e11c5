import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePreprocess, readLabels } from './models-command.js';

const DATA = path.resolve(import.meta.dirname, '../../../../shared/datasets/coco-val128');

describe('models add flags', () => {
  it('reads --preprocess pairs as a manifest preprocess: fractions, lists, WxH, inputs', () => {
    expect(parsePreprocess(['resize=stretch', 'scale=1/255', 'mean=0.485,0.456,0.406', 'size=640x384', 'pad-value=0', 'inputs.orig_target_sizes=original_wh'])).toEqual({
      resize: 'stretch',
      scale: 1 / 255,
      mean: [0.485, 0.456, 0.406],
      size: [640, 384],
      pad_value: 0,
      inputs: { orig_target_sizes: 'original_wh' },
    });
    expect(() => parsePreprocess(['resize=crop'])).toThrow(/--preprocess.*resize/);
    expect(() => parsePreprocess(['channels'])).toThrow(/expected key=value/);
    expect(() => parsePreprocess(['colour=rgb'])).toThrow(/colour/);
  });

  it("reads --labels as coco or a YOLO classes.yaml in id order", async () => {
    expect(await readLabels('coco')).toHaveLength(80);
    const names = await readLabels(path.join(DATA, 'classes.yaml'));
    expect(names.slice(0, 3)).toEqual(['person', 'bicycle', 'car']);
    expect(names).toHaveLength(80);
  });
});
