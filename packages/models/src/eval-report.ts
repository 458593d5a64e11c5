import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatIssues } from '@spotter/shared';
import { z } from 'zod';

// PerformanceCounts of @spotter/monitoring, as the report stores them.
const Counts = z.object({ images: z.number(), tp: z.number(), fp: z.number(), fn: z.number(), tpBins: z.array(z.number()), fpBins: z.array(z.number()) }).loose();

/**
 * What Spotter reads of a registered evaluation report (the report.json of `spotter eval`):
 * checked once, when the model is registered, so that a gate never runs on half a report.
 */
export const EvalReport = z
  .object({
    dataset: z.object({ name: z.string(), images: z.number().int().nonnegative() }).loose(),
    model: z.union([z.object({ name: z.string(), version: z.string() }).loose(), z.object({ predictions: z.string() }).loose()]),
    metrics: z.record(z.string(), z.number()),
    slices: z.array(z.object({ slice: z.string(), ap: z.number(), recall: z.number().optional() }).loose()),
    /** The model at its serving threshold and NMS (reports made before it existed lack it). */
    operating_point: z
      .object({ counts: Counts, slices: z.record(z.string(), Counts), f1_per_image: z.array(z.number()) })
      .loose()
      .optional(),
  })
  .loose();
export type EvalReportFile = z.infer<typeof EvalReport>;

export type EvalReportRead = { report: EvalReportFile; problem: null } | { report: null; problem: string };

/**
 * Reads and checks a model's `eval_report` (relative to the model directory; the manifest
 * schema refuses absolute paths and `..`). Never throws: whatever is wrong (missing,
 * unreadable, cut short, not a report, a report of another model version) comes back as a
 * one-line problem that names the report, and the model is not served while it stands.
 */
export async function readEvalReport(dir: string, file: string, model: { version: string }): Promise<EvalReportRead> {
  const fail = (why: string): EvalReportRead => ({ report: null, problem: `its eval_report ${file} ${why}` });
  let text: string;
  try {
    text = await readFile(path.join(dir, file), 'utf8');
  } catch (err) {
    return fail((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseEvalReport(text, model, fail);
}

/** Checks a report's text (see readEvalReport); `fail` words the problem. */
export function parseEvalReport(text: string, model: { version: string }, fail: (why: string) => EvalReportRead): EvalReportRead {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return fail('is not valid JSON (cut short?)');
  }
  const parsed = EvalReport.safeParse(raw);
  if (!parsed.success) return fail(`is not an evaluation report of spotter eval: ${formatIssues(parsed.error, 'report')}`);
  const of = parsed.data.model;
  if ('version' in of && of.version !== model.version) return fail(`describes version ${of.version} of "${of.name}", not this file (version ${model.version}): evaluate it again`);
  return { report: parsed.data, problem: null };
}
