// Pre- and post-processing of detection models, pure TypeScript: the worker, the CLI and the
// browser (the console's edge page) run this very code.
export * from './coco-labels.js';
export * from './families/index.js';
export * from './file-metadata.js';
export * from './model-inspect.js';
export * from './model-io.js';
export * from './model-plan.js';
export * from './model-spec.js';
export * from './nms.js';
export * from './onnx-file.js';
export * from './pipeline.js';
export * from './preprocess.js';
export * from './resize.js';
