import { readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corruptPng, datasetImage, pngHeaderOnly, truncatedJpeg } from '../support/images.js';
import { getJson, postForm, startSpotter, type Spotter } from '../support/spotter.js';
import { until } from '../support/until.js';

const MAX_UPLOAD = 1024 * 1024;

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name))])),
  );
  return nested.flat();
}

describe('bad input: a clear 4xx, nothing lost, nothing written outside storage, no crash', () => {
  let spotter: Spotter;
  const statuses: number[] = [];
  const post = async (...args: Parameters<typeof postForm>) => {
    const res = await postForm(...args);
    statuses.push(res.status);
    return res;
  };

  beforeAll(async () => {
    spotter = await startSpotter({ SPOTTER_MAX_UPLOAD_BYTES: String(MAX_UPLOAD) });
  });
  afterAll(() => spotter?.stop());

  it.each([
    ['an empty file', async () => Buffer.alloc(0), 400, 'EMPTY_FILE'],
    ['a text file named .jpg', async () => Buffer.from('hello, I am not a picture\n'.repeat(10)), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['a truncated JPEG', () => truncatedJpeg(), 422, 'IMAGE_DECODE_FAILED'],
    ['a 60000x60000 PNG header', async () => pngHeaderOnly(60000, 60000), 413, 'IMAGE_TOO_MANY_PIXELS'],
    ['an upload over the size limit', async () => Buffer.concat([await datasetImage(), Buffer.alloc(MAX_UPLOAD)]), 413, 'PAYLOAD_TOO_LARGE'],
  ])('refuses %s', async (_label, make, status, code) => {
    const res = await post(`${spotter.url}/v1/jobs`, await make(), {}, {}, 'photo.jpg');
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message).toEqual(expect.any(String));
  });

  it.each([
    ['the image field is missing', null, {}, 400, 'MISSING_IMAGE'],
    ['min_score is out of range', 'image', { min_score: '1.5' }, 400, 'INVALID_REQUEST'],
    ['min_score is not a number', 'image', { min_score: 'high' }, 400, 'INVALID_REQUEST'],
    ['an unknown field is sent', 'image', { colour: 'red' }, 400, 'INVALID_REQUEST'],
    ['the model is unknown', 'image', { model: 'yolo_huge' }, 400, 'UNKNOWN_MODEL'],
    ['the webhook is not a URL', 'image', { webhook_url: 'not a url' }, 400, 'INVALID_REQUEST'],
    ['webhooks are not configured', 'image', { webhook_url: 'https://example.com/hook' }, 400, 'WEBHOOKS_DISABLED'],
  ])('refuses a form where %s', async (_label, part, fields, status, code) => {
    const res = await post(`${spotter.url}/v1/jobs`, part ? await datasetImage() : null, fields);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
  });

  it('refuses a body that is not multipart, or is malformed multipart', async () => {
    const json = await fetch(`${spotter.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"image": "x"}' });
    expect(json.status).toBe(400);
    const broken = await fetch(`${spotter.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\nabc',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: { code: string } }).error.code).toBe('INVALID_REQUEST');
    statuses.push(json.status, broken.status);
  });

  it('answers 404 for unknown jobs and routes', async () => {
    for (const url of [
      `/v1/jobs/00000000-0000-4000-8000-000000000000`,
      `/v1/jobs/not-a-uuid`,
      `/v1/jobs/..%2F..%2Fetc%2Fpasswd`,
      `/v1/jobs/00000000-0000-4000-8000-000000000000/annotated`,
    ]) {
      const res = await getJson(`${spotter.url}${url}`);
      expect(res.status, url).toBe(404);
      expect(res.body.error.code).toMatch(/NOT_FOUND/);
      statuses.push(res.status);
    }
    // Under /v2 errors take the Open Inference Protocol's shape: {"error": "<message>"}.
    const oip = await getJson(`${spotter.url}/v2/nothing`);
    expect(oip.status).toBe(404);
    expect(typeof oip.body.error).toBe('string');
    statuses.push(oip.status);
    const badWait = await getJson(`${spotter.url}/v1/jobs/00000000-0000-4000-8000-000000000000?wait=soon`);
    expect(badWait.status).toBe(400);
  });

  it('ignores path-like file names: storage keys are the job ids', async () => {
    const names = ['../../etc/passwd.jpg', '/etc/shadow.jpg', '..\\..\\windows\\win.ini.jpg', 'a/../../b.jpg'];
    const ids = [];
    for (const name of names) {
      const res = await post(`${spotter.url}/v1/jobs`, await datasetImage(), {}, {}, name);
      expect(res.status).toBe(202);
      ids.push(res.body.id as string);
    }
    for (const id of ids) expect((await getJson(`${spotter.url}/v1/jobs/${id}?wait=30`)).body.status).toBe('succeeded');
    // Records are stored just after the answers: wait for the outbox to close.
    const files = await until(async () => {
      const all = await listFiles(spotter.storageDir);
      return all.some((f) => f.startsWith('pending/') || f.endsWith('.tmp')) ? undefined : all;
    });
    for (const f of files) expect(f).toMatch(/^(images\/[0-9a-f-]{36}|results\/[0-9a-f-]{36}\.json|annotated\/[0-9a-f-]{36}\.jpg)$/);
    expect(files.filter((f) => f.startsWith('images/'))).toHaveLength(ids.length);
    const parent = await readdir(path.dirname(spotter.storageDir));
    expect(parent.filter((f) => /passwd|shadow|win\.ini|^b\.jpg$/.test(f))).toEqual([]);
  });

  it('fails an undecodable image at once with IMAGE_DECODE_FAILED, without retrying', async () => {
    const res = await post(`${spotter.url}/v1/jobs`, await corruptPng());
    expect(res.status).toBe(202);
    const { body } = await getJson(`${spotter.url}/v1/jobs/${res.body.id}?wait=30`);
    expect(body.status).toBe('failed');
    expect(body.error.code).toBe('IMAGE_DECODE_FAILED');
    expect(body.result).toBeNull();
    expect(spotter.workers[0]!.output()).not.toMatch(new RegExp(`"job_id":"${res.body.id}"[^\\n]*will retry`));
  });

  it('reads every supported format and orientation, and the worker is still alive', async () => {
    const base = sharp(await datasetImage()).resize(320);
    const variants: [string, Buffer][] = [
      ['png with alpha', await base.clone().ensureAlpha(0.5).png().toBuffer()],
      ['16-bit png', await base.clone().toColourspace('rgb16').png().toBuffer()],
      ['grayscale jpeg', await base.clone().grayscale().jpeg().toBuffer()],
      ['cmyk jpeg', await base.clone().toColourspace('cmyk').jpeg().toBuffer()],
      ['webp', await base.clone().webp().toBuffer()],
      ['gif', await base.clone().gif().toBuffer()],
      ['tiff', await base.clone().tiff().toBuffer()],
      ['avif', await base.clone().avif({ effort: 0 }).toBuffer()],
    ];
    for (const [label, buf] of variants) {
      const res = await post(`${spotter.url}/v1/jobs`, buf);
      expect(res.status, label).toBe(202);
      const { body } = await getJson(`${spotter.url}/v1/jobs/${res.body.id}?wait=30`);
      expect(body.status, label).toBe('succeeded');
      expect(body.result.image.width, label).toBe(320);
    }
    expect(spotter.workers[0]!.child.exitCode).toBeNull();
    expect(statuses.every((s) => s < 500)).toBe(true);
  });

  it('applies EXIF orientation: boxes are in the picture as the user sees it', async () => {
    const source = await datasetImage(); // 640x426 as stored
    // Orientation 6 tells viewers to turn the stored pixels 90 degrees clockwise.
    const tagged = await sharp(source).withMetadata({ orientation: 6 }).jpeg({ quality: 100 }).toBuffer();
    const turned = await sharp(source).rotate(90).jpeg({ quality: 100 }).toBuffer();
    const [a, b] = await Promise.all(
      [tagged, turned].map(async (buf) => {
        const res = await post(`${spotter.url}/v1/jobs`, buf, { min_score: '0.05' });
        return (await getJson(`${spotter.url}/v1/jobs/${res.body.id}?wait=30`)).body;
      }),
    );
    expect(a.result.image).toEqual({ width: 426, height: 640 });
    expect(b.result.image).toEqual({ width: 426, height: 640 });
    // The two files are decoded by different paths (an EXIF turn, a plain JPEG), so a box near the
    // score floor may be found in one only: every confident box must be in the other, in place.
    type D = { label: string; score: number; box: Record<string, number> };
    const confident = (j: { result: { detections: D[] } }) => j.result.detections.filter((d) => d.score >= 0.2);
    expect(confident(a).length).toBeGreaterThan(0);
    for (const [x, y] of [[a, b], [b, a]] as const) {
      for (const d of confident(x)) {
        const twin = y.result.detections.find((e: D) => e.label === d.label && ['x1', 'y1', 'x2', 'y2'].every((k) => Math.abs(e.box[k]! - d.box[k]!) < 3));
        expect(twin, `${d.label} ${d.score} at ${JSON.stringify(d.box)}`).toBeDefined();
      }
    }
  });
});
