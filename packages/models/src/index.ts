export * from './model-registry.js';
export * from './onnx-signature.js';
export * from './promotion-gate.js';
export * from './rollout.js';
export * from './rollout-guards.js';
