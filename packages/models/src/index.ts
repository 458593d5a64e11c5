export * from './model-registry.js';
export * from './rollout.js';
