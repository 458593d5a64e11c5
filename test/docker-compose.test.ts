import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvSchema, loadConfig } from '@spotter/config';
import { root } from '../scripts/lib.mjs';

type Service = { image?: string; build?: string; command?: string[]; environment?: Record<string, string>; ports?: string[]; container_name?: string };

/** A digest, or a tag with at least major.minor (7.4.6-alpine, v2.53.5) or a dated release (MinIO's). */
function isPinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  // The tag follows the last ':' after the last '/' (a registry host may carry a port).
  const tag = /:([^:/]+)$/.exec(image)?.[1] ?? '';
  return /\d+\.\d+/.test(tag) || /^RELEASE\.\d{4}-\d{2}-\d{2}T/.test(tag);
}

// No Docker engine runs here: check the file's structure and its env against the config schema.
describe('docker-compose.yml', async () => {
  const compose = parse(await readFile(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
  const { services } = compose;

  it('has redis, minio with bucket creation, the api and a scalable worker', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['redis', 'minio', 'minio-init', 'api', 'worker', 'otel-collector', 'jaeger', 'prometheus', 'grafana']),
    );
    expect(services['minio-init']!.command!.join(' ')).toMatch(/mc mb --ignore-existing local\/spotter/);
    expect(services.api!.command).toEqual(['node', '--import', 'tsx', 'apps/api/src/main.ts']);
    expect(services.worker!.command).toEqual(['node', '--import', 'tsx', 'apps/worker/src/main.ts']);
    // --scale worker=N needs no fixed name and no published host port.
    expect(services.worker!.container_name).toBeUndefined();
    expect(services.worker!.ports).toBeUndefined();
  });

  it.each(['api', 'worker'])('gives the %s only variables the config schema knows, and they parse', (name) => {
    const env = services[name]!.environment!;
    const known = Object.keys(EnvSchema.shape);
    expect(Object.keys(env).filter((k) => !known.includes(k))).toEqual([]);
    // Substitute ${VAR:-default} / ${VAR:?msg} as compose would, with placeholder secrets.
    const resolved = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{(\w+)(?::-([^}]*)|:\?[^}]*)?\}/g, (_m, _n, def) => def ?? 'a-placeholder-secret-value')]),
    );
    const cfg = loadConfig(resolved);
    expect(cfg.storage).toMatchObject({ kind: 's3', bucket: 'spotter', endpoint: 'http://minio:9000', forcePathStyle: true });
    expect(cfg.redis.url).toBe('redis://redis:6379');
    expect(cfg.http.apiKeys.length).toBeGreaterThan(0);
    expect(cfg.telemetry.otlpEndpoint).toBe('http://otel-collector:4318');
  });

  it('pins every image to a release (no latest, no major-only tag)', () => {
    const images = Object.entries(services).flatMap(([name, s]) => (s.image ? [[name, s.image] as const] : []));
    expect(images.length).toBeGreaterThanOrEqual(7);
    for (const [name, image] of images) expect(isPinned(image), `${name}: ${image}`).toBe(true);
    // What the file had before: floating tags are refused.
    for (const floating of ['minio/minio:latest', 'minio/minio', 'redis:7-alpine', 'localhost:5000/grafana']) expect(isPinned(floating), floating).toBe(false);
    expect(isPinned(`redis@sha256:${'a'.repeat(64)}`)).toBe(true);
  });

  it('has Prometheus scrape the ports the api and workers listen on', async () => {
    const prom = parse(await readFile(path.join(root, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; static_configs?: { targets: string[] }[]; dns_sd_configs?: { names: string[]; port: number }[] }[];
    };
    const byJob = Object.fromEntries(prom.scrape_configs.map((c) => [c.job_name, c]));
    expect(byJob['spotter-api']!.static_configs![0]!.targets).toEqual([`api:${services.api!.environment!.PORT}`]);
    expect(byJob['spotter-worker']!.dns_sd_configs![0]).toMatchObject({ names: ['worker'], port: Number(services.worker!.environment!.SPOTTER_METRICS_PORT) });
  });
});

describe('Dockerfile', () => {
  it('copies every workspace package manifest before the frozen install', async () => {
    const dockerfile = await readFile(path.join(root, 'Dockerfile'), 'utf8');
    const manifests = ['bench'];
    for (const dir of ['apps', 'packages']) for (const name of await readdir(path.join(root, dir))) manifests.push(`${dir}/${name}`);
    for (const m of manifests) expect(dockerfile, m).toContain(`COPY ${m}/package.json ${m}/`);
  });
});
