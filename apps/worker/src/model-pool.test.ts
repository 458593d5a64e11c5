import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '@spotter/models';
import { ModelPool } from './model-pool.js';

const MODEL = path.resolve(import.meta.dirname, '../../../models/yolox_nano.onnx');

describe('ModelPool with the real model', () => {
  it('loads models on first use, keeps at most maxLoaded, evicts the least recently used idle one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-pool-'));
    await symlink(MODEL, path.join(dir, 'yolox_nano.onnx'));
    for (const name of ['a', 'b']) await writeFile(path.join(dir, `${name}.model.json`), JSON.stringify({ name, file: 'yolox_nano.onnx' }));
    const loaded: string[] = [];
    const pool = new ModelPool(await ModelRegistry.load(dir, 'yolox_nano'), { executionProviders: ['cpu'], intraOpThreads: 1 }, 2, (d) => loaded.push(d.name));
    await pool.use('yolox_nano', async () => undefined);
    await pool.use('a', async () => undefined);
    expect(pool.loadedNames().sort()).toEqual(['a', 'yolox_nano']);
    await pool.use('yolox_nano', async () => undefined); // now 'a' is the least recently used
    await pool.use('b', async () => undefined);
    expect(pool.loadedNames().sort()).toEqual(['b', 'yolox_nano']);
    // Concurrent first uses share one load.
    await Promise.all([pool.use('a', async () => undefined), pool.use('a', async () => undefined)]);
    expect(loaded).toEqual(['yolox_nano', 'a', 'b', 'a']);
    await expect(pool.use('missing', async () => undefined)).rejects.toMatchObject({ code: 'UNKNOWN_MODEL' });
    await pool.closeAll();
  });
});
