export * from './onnx-detector.js';
