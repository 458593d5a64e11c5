export * from './object-storage.js';
export * from './file-storage.js';
export * from './create-storage.js';
