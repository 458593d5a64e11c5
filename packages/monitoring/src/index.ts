export * from './drift-tests.js';
export * from './special-functions.js';
