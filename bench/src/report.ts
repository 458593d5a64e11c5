/** Flattens a nested result into "path: number" pairs for comparisons. */
function flatten(obj: unknown, prefix = '', out: Record<string, number> = {}): Record<string, number> {
  if (typeof obj === 'number') out[prefix] = obj;
  else if (Array.isArray(obj)) obj.forEach((v, i) => flatten(v, `${prefix}[${(v as { label?: string })?.label ?? i}]`, out));
  else if (obj && typeof obj === 'object') for (const [k, v] of Object.entries(obj)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

/** Every number of `current` next to `previous`, with the relative change. */
export function compare(previous: unknown, current: unknown): string {
  const a = flatten(previous);
  const b = flatten(current);
  const rows = Object.keys(b)
    .filter((k) => k in a && !k.startsWith('machine'))
    .map((k) => {
      const change = a[k] === 0 ? '' : `${(((b[k]! - a[k]!) / Math.abs(a[k]!)) * 100).toFixed(1)}%`;
      return `| ${k} | ${a[k]} | ${b[k]} | ${change} |`;
    });
  return ['| metric | previous | now | change |', '|---|---|---|---|', ...rows].join('\n');
}

type Row = (string | number)[];
export const table = (header: string[], rows: Row[]) =>
  [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
