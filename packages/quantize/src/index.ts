export * from './calibrate.js';
export * from './onnx-graph.js';
export * from './qdq.js';
export * from './quant-math.js';
export * from './quantize-model.js';
export * from './node-inference.js';
export * from './browser-inference.js';
export * from './cpu-time.js';
