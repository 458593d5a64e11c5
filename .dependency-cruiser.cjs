// The house rules, checked by test/architecture.test.ts (and `npx depcruise apps packages bench`).
const { existsSync } = require('node:fs');

/** Packages with no I/O: they run anywhere, the browser included, and load nothing heavy. */
const PURE = ['shared', 'vision', 'monitoring'];
/** Node built-ins and npm packages that do I/O or pull in a runtime a pure package must not. */
const IO_MODULES = '^(node:|fs$|net$|dns$|http|child_process|worker_threads)|node_modules/(ioredis|bullmq|pino|@aws-sdk|sharp|onnxruntime-node|express|prom-client|@opentelemetry)';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Import cycles make a house nobody can change safely.', from: {}, to: { circular: true } },
    {
      name: 'apps-do-not-import-apps',
      severity: 'error',
      comment: 'Apps are composition roots; what two apps share belongs in a package.',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    { name: 'packages-do-not-import-apps', severity: 'error', from: { path: '^packages/' }, to: { path: '^apps/' } },
    {
      name: 'redis-only-in-stores',
      severity: 'error',
      comment: 'Every piece of Redis state has a store; no other product code holds a raw client (tests and the benchmark may inspect Redis).',
      from: { path: '^(apps|packages)/', pathNot: ['^packages/stores/', '\\.test\\.ts$'] },
      to: { path: 'node_modules/ioredis' },
    },
    {
      name: 'pure-packages-stay-pure',
      severity: 'error',
      comment: 'shared, vision and monitoring are pure: no I/O package, no Redis, BullMQ, logger or native runtime.',
      from: { path: `^packages/(${PURE.join('|')})/src/(?!.*\\.test\\.ts$)` },
      to: { path: [`^packages/(?!${PURE.join('|')})`, IO_MODULES], pathNot: '^packages/(shared|vision|monitoring)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    ...(existsSync('tsconfig.json') ? { tsConfig: { fileName: 'tsconfig.json' } } : {}),
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['spotter-source', 'import', 'default'], mainFields: ['module', 'main'] },
  },
};
