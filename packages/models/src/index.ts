export * from './eval-report.js';
export * from './model-registry.js';
export * from './onnx-signature.js';
export * from './promotion-gate.js';
export * from './rollout-guards.js';
export { ModelFileCache, sha256 } from './model-files.js';
export * from './rollout.js';
