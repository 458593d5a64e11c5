export * from './drift-tests.js';
export * from './special-functions.js';
export * from './image-metrics.js';
export * from './metric-catalog.js';
export * from './profile.js';
export * from './drift-report.js';
export * from './profile-store.js';
export * from './alarm-state.js';
