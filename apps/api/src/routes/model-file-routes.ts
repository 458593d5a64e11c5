import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import type { ModelRegistry } from '@spotter/models';
import { NotFoundError } from '@spotter/shared';

/** How long a browser keeps a model file before asking again (then a 304 costs no bytes). */
const MAX_AGE_S = 24 * 3600;

/**
 * GET /v1/models/{name} (its manifest) and GET /v1/models/{name}/file (the registered .onnx),
 * for any key, so that a browser can run the very model the workers run (the console's edge
 * page). The file has a strong ETag from its sha256, and 304 on If-None-Match.
 */
export function modelFileRoutes(registry: ModelRegistry): Router {
  const r = Router();

  const find = (name: string) =>
    registry.find(name).catch(() => {
      throw new NotFoundError('MODEL_NOT_FOUND', `no model named ${JSON.stringify(name)}`);
    });

  // The manifest as the registry read it (labels, thresholds, pre-processing): what a browser
  // needs to pre- and post-process exactly as the workers do. The server's path stays here.
  r.get('/v1/models/:name', async (req, res) => {
    const { path: _path, ...manifest } = await find(req.params.name);
    res.json({ ...manifest, available: manifest.problem === null, links: { file: `/v1/models/${manifest.name}/file` } });
  });

  r.get('/v1/models/:name/file', async (req, res) => {
    const name = req.params.name;
    const model = await find(name);
    if (model.problem || !model.digest) throw new NotFoundError('MODEL_FILE_UNAVAILABLE', `model "${name}" has no usable file: ${model.problem}`);
    const etag = `"sha256-${model.digest}"`;
    res.set({ ETag: etag, 'Cache-Control': `private, max-age=${MAX_AGE_S}`, 'X-Content-Type-Options': 'nosniff' });
    const asked = req.get('if-none-match');
    if (asked && asked.split(',').some((t) => t.trim() === etag || t.trim() === '*')) return void res.status(304).end();
    const file = await registry.localFile(model);
    const { size } = await stat(file);
    res.set({ 'Content-Length': String(size), 'Content-Disposition': `attachment; filename="${model.file}"` });
    res.type('application/octet-stream');
    await pipeline(createReadStream(file), res);
  });
  return r;
}
