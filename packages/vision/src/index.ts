// Pre- and post-processing of detection models, pure TypeScript: the worker and the
// browser (the console's edge page) run this very code.
export * from './coco-labels.js';
export * from './letterbox.js';
export * from './model-spec.js';
export * from './nms.js';
export * from './output-decoders.js';
export * from './pipeline.js';
export * from './resize.js';
