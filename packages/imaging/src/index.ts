export * from './sniff.js';
export * from './probe.js';
export * from './decode.js';
export * from './draw.js';
export * from './strip-metadata.js';
export * from './jpeg-decode.js';
