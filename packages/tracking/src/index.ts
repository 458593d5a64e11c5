// Pure code only: no Node.js I/O. Tracking runs in the worker; the metrics in tests and the benchmark.
export * from './analytics.js';
export * from './byte-tracker.js';
export * from './kalman-filter.js';
export * from './linear-assignment.js';
export * from './mot-metrics.js';
export * from './regions.js';
export * from './stitch.js';
