export * from './coco-eval.js';
export * from './datasets.js';
export * from './predict-dataset.js';
export * from './report-html.js';
// Moved to the pure contract so the console runs it in the browser; re-exported for existing callers.
export { compareDetections, type Agreement } from '@spotter/shared';
export * from './error-analysis.js';
export * from './build-report.js';
