import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelRegistryError } from '@spotter/shared';
import { ModelRegistry } from './model-registry.js';

const MODEL = path.resolve(import.meta.dirname, '../../../models/yolox_nano.onnx');

async function modelDir(manifests: Record<string, Record<string, unknown>>, files: Record<string, string> = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-registry-'));
  await symlink(MODEL, path.join(dir, 'yolox_nano.onnx'));
  for (const [name, fields] of Object.entries(manifests)) await writeFile(path.join(dir, `${name}.model.json`), JSON.stringify({ name, file: 'yolox_nano.onnx', ...fields }));
  for (const [name, body] of Object.entries(files)) await writeFile(path.join(dir, name), body);
  return dir;
}

describe('the model registry and evaluation reports', () => {
  it('makes a model whose eval_report cannot be read unavailable, with a problem naming the report, and serves the others', async () => {
    const version = (await ModelRegistry.load(await modelDir({}), 'yolox_nano')).get('yolox_nano').version;
    const good = { dataset: { name: 'd', images: 2 }, model: { name: 'yolox_nano', version }, metrics: { AP: 0.3 }, slices: [] };
    const dir = await modelDir(
      { fine: { eval_report: 'fine.json' }, cut: { eval_report: 'cut.json' }, gone: { eval_report: 'gone.json' } },
      { 'fine.json': JSON.stringify(good), 'cut.json': JSON.stringify(good).slice(0, 30) },
    );
    const registry = await ModelRegistry.load(dir, 'yolox_nano');
    expect(registry.get('fine').problem).toBeNull();
    expect(registry.evalReport('fine')?.metrics).toEqual({ AP: 0.3 });
    expect(registry.get('cut').problem).toBe('its eval_report cut.json is not valid JSON (cut short?)');
    expect(registry.get('gone').problem).toBe('its eval_report gone.json does not exist');
    expect(registry.evalReport('cut')).toBeNull();
    expect(registry.get('yolox_nano').problem).toBeNull();
    // The eval command reads models without their reports: evaluating is how a model gets one.
    expect((await ModelRegistry.load(dir, 'yolox_nano', { reports: false })).get('gone').problem).toBeNull();
  });

  it('refuses to load a manifest whose eval_report is absolute or leaves the model directory, naming the manifest', async () => {
    for (const eval_report of ['/tmp/report.json', '../report.json']) {
      const dir = await modelDir({ outside: { eval_report } });
      const err = await ModelRegistry.load(dir, 'yolox_nano').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelRegistryError);
      expect((err as Error).message).toMatch(/^outside\.model\.json: eval_report: a path relative to the model directory/);
    }
  });
});
