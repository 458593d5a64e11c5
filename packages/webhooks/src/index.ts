export * from './deliver-webhook.js';
export * from './ssrf-guard.js';
export * from './webhook-signature.js';
