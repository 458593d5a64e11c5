/** Milliseconds as people read them: "840 ms", "1.2 s". */
export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return v >= 1000 ? `${(v / 1000).toFixed(v >= 10_000 ? 0 : 1)} s` : `${v >= 10 ? Math.round(v) : v.toFixed(1)} ms`;
}

/** Bytes in KB/MB (powers of 1000, as browsers show downloads). */
export function bytes(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)} MB`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(0)} kB`;
  return `${v} B`;
}

/** A number with at most `digits` decimals. */
export function num(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : String(Math.round(v * 10 ** digits) / 10 ** digits);
}

/** A share as a percentage. */
export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)} %`;
}

/** A timestamp in the reader's locale, to the second. */
export function time(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : '–';
}
