export * from './model-registry.js';
export * from './promotion-gate.js';
export * from './rollout.js';
export * from './rollout-guards.js';
export { ModelFileCache, sha256 } from './model-files.js';
