import client from 'prom-client';

export { client as prom };

/**
 * A Prometheus registry with the process metrics (CPU, RSS, event-loop lag, GC)
 * every Spotter process exports.
 */
export function createRegistry(service: string) {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  return registry;
}

/** Latency buckets in seconds, from 1 ms to 60 s. */
export const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
