export * from './coco-eval.js';
export * from './datasets.js';
export * from './predict-dataset.js';
export * from './report-html.js';
export * from './agreement.js';
export * from './error-analysis.js';
export * from './build-report.js';
