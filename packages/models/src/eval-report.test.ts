import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ModelManifest } from '@spotter/shared';
import { describe, expect, it } from 'vitest';
import { readEvalReport } from './eval-report.js';

const report = { dataset: { name: 'coco-val128', images: 128 }, model: { name: 'yolox_nano', version: 'abc123' }, metrics: { AP: 0.25 }, slices: [{ slice: 'size: small', ap: 0.1 }] };

describe('evaluation reports, read at registration', () => {
  it('reads a report of this model version, and names the report in every problem', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-eval-report-'));
    const write = async (name: string, body: string) => (await writeFile(path.join(dir, name), body), name);
    const model = { version: 'abc123' };
    expect(await readEvalReport(dir, await write('ok.json', JSON.stringify(report)), model)).toMatchObject({ problem: null, report: { metrics: { AP: 0.25 } } });
    const problems = {
      missing: (await readEvalReport(dir, 'gone.json', model)).problem,
      cut: (await readEvalReport(dir, await write('cut.json', JSON.stringify(report).slice(0, 40)), model)).problem,
      other: (await readEvalReport(dir, await write('dataset.json', JSON.stringify({ images: [], annotations: [] })), model)).problem,
      stale: (await readEvalReport(dir, await write('stale.json', JSON.stringify({ ...report, model: { name: 'yolox_nano', version: 'fff000' } })), model)).problem,
      dir: (await readEvalReport(dir, '.', model)).problem,
    };
    expect(problems).toEqual({
      missing: 'its eval_report gone.json does not exist',
      cut: 'its eval_report cut.json is not valid JSON (cut short?)',
      other: expect.stringMatching(/^its eval_report dataset\.json is not an evaluation report of spotter eval: dataset: .*; model: /),
      stale: 'its eval_report stale.json describes version fff000 of "yolox_nano", not this file (version abc123): evaluate it again',
      dir: 'its eval_report . cannot be read (EISDIR)',
    });
    for (const p of Object.values(problems)) expect(p).not.toContain('\n');
  });

  it('are refused in the manifest when absolute or outside the model directory', () => {
    for (const eval_report of ['/etc/report.json', 'C:\\r.json', '../elsewhere/report.json', 'eval/../../x.json', '']) {
      expect(ModelManifest.safeParse({ name: 'm', file: 'm.onnx', eval_report }).success, eval_report).toBe(false);
    }
    expect(ModelManifest.parse({ name: 'm', file: 'm.onnx', eval_report: 'eval/m..v2/report.json' }).eval_report).toBe('eval/m..v2/report.json');
  });
});
