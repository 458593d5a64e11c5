import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, ModelManifest, ValidationError } from '@spotter/shared';
import { FileStorage, storageKeys } from '@spotter/storage';
import { ModelRegistry } from './model-registry.js';

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
    expect(await storage.exists(storageKeys.modelFile((await a.add(nanodet(), bytes, null)).digest!))).toBe(true);
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
    expect(await storage.exists(storageKeys.modelFile(one.digest!))).toBe(true);
    await a.remove('two', []);
    expect(await storage.exists(storageKeys.modelFile(one.digest!))).toBe(false);
    await b.refresh();
    expect(b.names()).toEqual(['yolox_nano']);
  });
});
