import { mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, ModelManifest, ModelRegistryError, ValidationError } from '@spotter/shared';
import { FileStorage, storageKeys } from '@spotter/storage';
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

const root = path.resolve(import.meta.dirname, '../../..');
const SEEDS = path.join(root, 'models');
const NANODET = path.join(root, '../shared/models/zoo/nanodet_m_320.onnx');
const nanodet = (name = 'nanodet') =>
  ModelManifest.parse({ name, file: `${name}.onnx`, format: 'gfl', preprocess: { pad: 'center', pad_value: 0, channels: 'bgr', mean: [103.53, 116.28, 123.675], std: [57.375, 57.12, 58.395] } });

// Two registries over one storage are two processes (or hosts): what one adds, the other serves.
describe('ModelRegistry with models stored in Spotter storage', () => {
  let storage: FileStorage;
  let dir: string;
  const open = async (cache: string) => ModelRegistry.load(SEEDS, 'yolox_nano', { storage, cacheDir: path.join(dir, cache) });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-registry-'));
    storage = new FileStorage(path.join(dir, 'data'));
  });

  it('serves a model added by another process, its file fetched by sha256, without reloading', async () => {
    const [a, b] = [await open('a'), await open('b')];
    const changed: string[][] = [];
    b.onChange(() => changed.push(b.names()));
    const bytes = await readFile(NANODET);
    const added = await a.add(nanodet(), bytes, 'test');
    expect(added).toMatchObject({ name: 'nanodet', source: 'stored', bytes: bytes.length, problem: null });
    const found = await b.find('nanodet');
    expect(found.digest).toBe(added.digest);
    expect(changed).toEqual([['yolox_nano', 'nanodet']]);
    const file = await b.localFile(found);
    expect(file.startsWith(path.join(dir, 'b'))).toBe(true);
    expect((await readFile(file)).equals(bytes)).toBe(true);
  });

  it('fetches again a cached file that does not match its digest (a new process checks it)', async () => {
    const a = await open('a');
    const m = await a.add(nanodet(), await readFile(NANODET), null);
    const file = await a.localFile(m);
    await writeFile(file, 'damaged');
    const later = await open('a');
    expect((await readFile(await later.localFile(await later.find('nanodet')))).length).toBe(m.bytes);
  });

  it('refuses a file its format does not read, a taken name and a seed name, storing nothing', async () => {
    const a = await open('a');
    const bytes = await readFile(NANODET);
    await expect(a.add({ ...nanodet(), format: 'ultralytics' }, bytes, null)).rejects.toThrow(ValidationError);
    await expect(a.add({ ...nanodet(), format: 'ultralytics' }, bytes, null)).rejects.toThrow(/unexpected output for format ultralytics/);
    await expect(a.add(nanodet('yolox_nano'), bytes, null)).rejects.toThrow(ConflictError);
    expect(await storage.size(storageKeys.modelFile((await a.add(nanodet(), bytes, null)).digest!))).not.toBeNull();
    await expect(a.add(nanodet(), bytes, null)).rejects.toThrow(/already registered/);
  });

  it('removes a model, keeping its file while another model uses it, never the one in use or a seed', async () => {
    const [a, b] = [await open('a'), await open('b')];
    const bytes = await readFile(NANODET);
    const one = await a.add(nanodet('one'), bytes, null);
    await a.add(nanodet('two'), bytes, null);
    await expect(a.remove('one', ['one'])).rejects.toThrow(/in use/);
    await expect(a.remove('yolox_nano', [])).rejects.toThrow(/seed/);
    await a.remove('one', []);
    expect(await storage.size(storageKeys.modelFile(one.digest!))).not.toBeNull();
    await a.remove('two', []);
    expect(await storage.size(storageKeys.modelFile(one.digest!))).toBeNull();
    await b.refresh();
    expect(b.names()).toEqual(['yolox_nano']);
  });
  it('checks a stored model report when it is added and when it is listed: a model whose report went missing is unavailable', async () => {
    const a = await open('a');
    const bytes = await readFile(NANODET);
    const version = (await a.add(nanodet('probe'), bytes, null)).version;
    const report = (v: string) => Buffer.from(JSON.stringify({ dataset: { name: 'd', images: 2 }, model: { name: 'nanodet', version: v }, metrics: { AP: 0.28 }, slices: [] }));
    await storage.put(storageKeys.report('good', 'report.json'), report(version), 'application/json');
    await storage.put(storageKeys.report('stale', 'report.json'), report('0123456789ab'), 'application/json');
    await storage.put(storageKeys.report('cut', 'report.json'), report(version).subarray(0, 40), 'application/json');
    await expect(a.add({ ...nanodet('s'), eval_report: 'stale' }, bytes, null)).rejects.toThrow(/the stored report stale describes version 0123456789ab/);
    await expect(a.add({ ...nanodet('c'), eval_report: 'cut' }, bytes, null)).rejects.toThrow(/is not valid JSON/);
    await a.add({ ...nanodet(), eval_report: 'good' }, bytes, null);
    const b = await open('b');
    expect((await b.find('nanodet')).problem).toBeNull();
    expect(b.evalReport('nanodet')?.metrics).toEqual({ AP: 0.28 });
    await storage.delete(storageKeys.report('good', 'report.json'));
    const c = await open('c');
    expect((await c.find('nanodet')).problem).toBe('its stored report good does not exist');
    expect(c.evalReport('nanodet')).toBeNull();
  });
});
