import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectModel } from './model-inspect.js';
import type { ModelIO } from './model-io.js';
import { readOnnxFile } from './onnx-file.js';

const root = path.resolve(import.meta.dirname, '../../..');
const file = (f: string) => readOnnxFile(readFileSync(path.resolve(root, f)));
const zoo = (f: string) => file(`../shared/models/zoo/${f}`);
const inspect = (info: ReturnType<typeof readOnnxFile>, given = {}) => inspectModel(info.io, info.metadata, given);

describe('inspectModel on the real files', () => {
  it('YOLOX-nano: yolox, BGR 0..255 letterboxed top-left at 416, COCO labels by class count', () => {
    const i = inspect(file('models/yolox_nano.onnx'));
    expect(i.manifest).toEqual({ format: 'yolox', labels: 'coco', preprocess: { resize: 'letterbox', pad: 'top-left', pad_value: 114, channels: 'bgr', scale: 1, mean: [0, 0, 0], std: [1, 1, 1], size: 416 } });
    expect(i.reasons[0]).toMatch(/^family yolox .*\[1, 3549, 85\]/);
  });

  it('YOLOv8n: ultralytics with the names and imgsz of its metadata, RGB 0..1 centred', () => {
    const i = inspect(zoo('yolov8n_int8.onnx'));
    expect(i.manifest).toMatchObject({ format: 'ultralytics', labels: 'coco', preprocess: { resize: 'letterbox', pad: 'center', channels: 'rgb', scale: 1 / 255, size: 640 } });
    expect(i.reasons).toContain("labels: 80 from the file's metadata (names)");
    expect(i.reasons.find((r) => r.startsWith('not yolox'))).toMatch(/as 5 \+ C says 8395 classes, the labels have 80/);
  });

  it('YOLO26n: end2end, because its metadata says end2end: True', () => {
    const i = inspect(zoo('yolo26n_int8.onnx'));
    expect(i.manifest.format).toBe('end2end');
    expect(i.reasons[0]).toMatch(/end2end: True/);
  });

  it('DEIMv2: detr, stretch RGB 0..1 at 320 from the graph, orig_target_sizes fed the original [width, height]', () => {
    const i = inspect(zoo('deimv2_atto_320.onnx'));
    expect(i.manifest).toMatchObject({ format: 'detr', labels: 'coco', preprocess: { resize: 'stretch', channels: 'rgb', scale: 1 / 255, size: 320, inputs: { orig_target_sizes: 'original_wh' } } });
  });

  it('NanoDet-m: gfl, its six misnamed outputs paired by shape; BGR with mean and std, centred with 0', () => {
    const i = inspect(zoo('nanodet_m_320.onnx'));
    expect(i.manifest).toMatchObject({ format: 'gfl', labels: 'coco', preprocess: { resize: 'letterbox', pad: 'center', pad_value: 0, channels: 'bgr', scale: 1, mean: [103.53, 116.28, 123.675], std: [57.375, 57.12, 58.395], size: 320 } });
    expect(i.reasons[0]).toMatch(/3 levels \(strides 8\/16\/32\): 80 class scores and 4 x 8 bins/);
  });

  it('takes a format, labels and settings as given, and refuses labels that do not fit the outputs', () => {
    const i = inspect(zoo('yolov8n_int8.onnx'), { format: 'yolov8', preprocess: { padValue: 0 } });
    expect(i.manifest.preprocess).toMatchObject({ pad_value: 0 });
    expect(i.reasons[0]).toMatch(/format as given/);
    expect(i.reasons).toContain('pre-processing: letterbox center, padded with 0, RGB, x 1/255 (ultralytics defaults, padValue as given)');
    expect(() => inspect(zoo('yolov8n_int8.onnx'), { labels: ['a', 'b'] })).toThrow(/no family reads this model: inputs images \[1, 3, 640, 640\]; outputs output0 \[1, 84, 8400\]; tried yolox .*; ultralytics \(.*says 80 classes, the labels have 2\)/);
  });
});

describe('inspectModel on layouts the zoo does not have', () => {
  const io = (input: (number | null)[], outputs: [string, (number | null)[]][]): ModelIO => ({ inputs: [{ name: 'x', type: 'float32', shape: input }], outputs: outputs.map(([name, shape]) => ({ name, type: 'float32', shape })) });

  it('reads a dynamic input size from the metadata, else the family default, and says which', () => {
    const dyn = io([null, 3, null, null], [['out', [null, 84, 6300]]]);
    expect(inspectModel(dyn, { imgsz: '[480, 640]' }).manifest.preprocess?.size).toEqual([640, 480]);
    expect(inspectModel(dyn, { imgsz: '[480, 640]' }).reasons).toContain("input x [?, 3, ?, ?]: 640x480, NCHW, size from the file's metadata (imgsz)");
    expect(inspectModel(io([null, 3, null, null], [['out', [null, 84, 8400]]]), {}).reasons.find((r) => r.startsWith('input'))).toMatch(/size from the ultralytics default/);
  });

  it('numbers the classes when the file names none and they are not COCO', () => {
    const i = inspectModel(io([1, 3, 640, 640], [['out', [1, 7, 8400]]]), {});
    expect(i.manifest.labels).toEqual(['class_0', 'class_1', 'class_2']);
  });

  it('reads channels-last inputs and a YOLOv5 head', () => {
    const i = inspectModel(io([1, 640, 640, 3], [['out', [1, 25200, 85]]]), {});
    expect(i.manifest.format).toBe('yolov5');
    expect(i.preprocess.layout).toBe('nhwc');
  });

  it('refuses in one line naming shapes and every family tried', () => {
    const err = () => inspectModel(io([1, 3, 224, 224], [['logits', [1, 1000]]]), {});
    expect(err).toThrow(/^no family reads this model: inputs x \[1, 3, 224, 224\]; outputs logits \[1, 1000\]; tried yolox \(.+\); ultralytics \(.+\); end2end \(.+\); yolov5 \(.+\); detr \(.+\); gfl \(.+\)$/);
    expect(() => inspectModel({ inputs: [{ name: 'ids', type: 'int64', shape: [1, 128] }], outputs: [] }, {})).toThrow(/no input takes a picture/);
  });
});
