export * from './deliver-job-webhook.js';
export * from './finalize-job.js';
export * from './job-files.js';
export * from './reconcile.js';
