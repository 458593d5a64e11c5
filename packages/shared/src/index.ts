// Pure code only: no Node.js I/O, no Redis, no logger. It runs in the browser as well.
export * from './agreement.js';
export * from './errors.js';
export * from './geometry.js';
export * from './image-formats.js';
export * from './job-contract.js';
export * from './job-records.js';
export * from './model-manifest.js';
export * from './rollout-contract.js';
export * from './zod-issues.js';
export * from './timing.js';
export * from './batch-contract.js';
export * from './raw-tensor.js';
export * from './video-contract.js';
