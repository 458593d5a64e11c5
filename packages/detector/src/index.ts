export * from './coco-labels.js';
export * from './letterbox.js';
export * from './model-specs.js';
export * from './nms.js';
export * from './onnx-detector.js';
export * from './output-decoders.js';
