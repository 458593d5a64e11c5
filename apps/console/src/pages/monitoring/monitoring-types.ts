/** What the monitoring routes answer, as far as the page reads them. */
export interface MetricRow {
  name: string;
  kind: string;
  test: string;
  score: number;
  p_value: number | null;
  threshold: { warn: number; alarm: number; source: string };
  status: string;
  samples: number;
}

export interface ServiceRow {
  name: string;
  objective: string;
  target: number;
  value: number;
  burn_rate: number;
  status: string;
  samples: number;
}

export interface Drift {
  model: string;
  window: { from: string; to: string; count: number };
  reference: { id: string; count: number; created_at: string } | null;
  status: string;
  dataset_drift: { drifted: number; judged: number; share: number } | null;
  metrics: MetricRow[];
  service: { status: string; thresholds: { burn_rate: { warn: number; alarm: number } }; metrics: ServiceRow[] };
}

export interface Histogram {
  bins: string[];
  reference: { counts: number[]; images: number } | null;
  window: { counts: number[]; images: number };
}

export interface History {
  points: { from: string; to: string; count: number; score: number | null; p_value: number | null; status: string; threshold: { warn: number; alarm: number } | null }[];
}

export interface Alarms {
  open: { metric: string; opened_at: string }[];
  service: { open: { metric: string; opened_at: string }[] };
  history: { metric: string; kind: string; action: string; at: string; status: string; score: number | null; p_value: number | null }[];
}

/** Metrics judged from late labels: no bins, so no histogram. */
export const PERFORMANCE = new Set(['precision', 'recall', 'f1', 'ap50', 'f1_page_hinkley']);
