export * from './decode-frames.js';
export * from './overlay.js';
export * from './plan-segments.js';
export * from './probe-video.js';
export * from './render-annotated.js';
export * from './sniff-video.js';
export * from './tools.js';
export * from './track-segment.js';
