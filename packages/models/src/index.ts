export * from './eval-report.js';
export * from './model-registry.js';
export * from './promotion-gate.js';
export * from './rollout-guards.js';
export * from './rollout.js';
