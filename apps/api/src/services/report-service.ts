import { NotFoundError } from '@spotter/shared';
import { storageKeys, type ObjectStorage } from '@spotter/storage';

/** What the list shows of one stored evaluation report. */
export interface ReportSummary {
  id: string;
  created_at: string;
  model: { name: string | null; version: string | null };
  dataset: { name: string | null; images: number | null; objects: number | null };
  metrics: { AP: number | null; AP50: number | null; AR100: number | null };
}

// The ids `spotter eval --store` makes (reportId): nothing else is ever read.
const REPORT_ID = /^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$/;

/** Evaluation reports that `spotter eval --store` wrote under `reports/<id>/` in Spotter's storage. */
export class ReportService {
  constructor(private readonly storage: ObjectStorage) {}

  /** The newest `limit` reports, newest first (ids sort by time). */
  async list(limit = 50): Promise<ReportSummary[]> {
    const ids: string[] = [];
    for await (const o of this.storage.list('reports/')) {
      const [, id, file] = o.key.split('/');
      if (file === 'report.json' && id && REPORT_ID.test(id)) ids.push(id);
    }
    ids.sort().reverse();
    const reports = await Promise.all(ids.slice(0, limit).map(async (id) => summarise(id, await this.json(id).catch(() => null))));
    return reports.filter((r): r is ReportSummary => r !== null);
  }

  /** The report as `spotter eval` wrote it. */
  async json(id: string): Promise<Record<string, unknown>> {
    return JSON.parse((await this.read(id, 'report.json')).toString('utf8')) as Record<string, unknown>;
  }

  /** The self-contained HTML page of the report (inline styles and SVG, no script). */
  html(id: string): Promise<Buffer> {
    return this.read(id, 'report.html');
  }

  private async read(id: string, file: 'report.json' | 'report.html'): Promise<Buffer> {
    const body = REPORT_ID.test(id) ? await this.storage.get(storageKeys.report(id, file)) : null;
    if (!body) throw new NotFoundError('REPORT_NOT_FOUND', `no evaluation report with id ${JSON.stringify(id)}`);
    return body;
  }
}

const num = (v: unknown) => (typeof v === 'number' ? v : null);
const str = (v: unknown) => (typeof v === 'string' ? v : null);
const obj = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});

function summarise(id: string, r: Record<string, unknown> | null): ReportSummary | null {
  if (!r) return null;
  const m = obj(r.metrics);
  // The id starts with the time it was stored: 20250102T030405Z.
  const t = id.slice(0, 16);
  const created = `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}T${t.slice(9, 11)}:${t.slice(11, 13)}:${t.slice(13, 15)}Z`;
  const model = obj(r.model);
  const dataset = obj(r.dataset);
  // Names and counts only: the report's file paths are the evaluating machine's business.
  return {
    id,
    created_at: created,
    model: { name: str(model.name) ?? (str(model.predictions) ? 'predictions file' : null), version: str(model.version) },
    dataset: { name: str(dataset.name), images: num(dataset.images), objects: num(dataset.objects) },
    metrics: { AP: num(m.AP), AP50: num(m.AP50), AR100: num(m.AR100) },
  };
}
