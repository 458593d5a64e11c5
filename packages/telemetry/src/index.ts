export * from './metrics.js';
export * from './tracing.js';
export * from './logger.js';
