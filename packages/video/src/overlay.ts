import type { CountingLine, VideoFrameLine, Zone } from '@spotter/shared';

const PALETTE = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe', '#008080', '#e6beff'];
const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** What the annotated clip shows besides a frame's boxes: the regions, and the counts so far. */
export interface OverlayScene {
  lines: readonly CountingLine[];
  zones: readonly Zone[];
  /** Multiply clip pixels by this to get the rendered frame's. */
  scale: number;
}

/**
 * The SVG drawn over one frame of the annotated clip: zones (translucent) and counting lines,
 * each tracked box in its track's colour with "#id label", and a panel with the objects of
 * each class in view and the crossings of each line so far.
 */
export function overlaySvg(width: number, height: number, frame: VideoFrameLine | undefined, scene: OverlayScene, crossings: Record<string, { in: number; out: number }>): string {
  const k = scene.scale;
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 300));
  const font = Math.max(11, Math.round(Math.min(width, height) / 45));
  const pts = (p: readonly (readonly [number, number])[]) => p.map(([x, y]) => `${(x * k).toFixed(1)},${(y * k).toFixed(1)}`).join(' ');
  const parts: string[] = [];
  for (const z of scene.zones) parts.push(`<polygon points="${pts(z.polygon)}" fill="rgba(70,240,240,0.18)" stroke="#46f0f0" stroke-width="${stroke}"/>`);
  for (const l of scene.lines) parts.push(`<polyline points="${pts(l.points)}" fill="none" stroke="#ffffff" stroke-width="${stroke + 1}" stroke-dasharray="${stroke * 4},${stroke * 2}"/>`);
  const inView = new Map<string, number>();
  for (const d of frame?.detections ?? []) {
    if (d.track_id === null) continue;
    inView.set(d.label, (inView.get(d.label) ?? 0) + 1);
    const color = PALETTE[d.track_id % PALETTE.length]!;
    const x1 = d.box.x1 * k;
    const y1 = d.box.y1 * k;
    const text = `#${d.track_id} ${escapeXml(d.label)}`;
    const labelY = y1 - font - 4 >= 0 ? y1 - font - 4 : y1;
    parts.push(
      `<rect x="${x1.toFixed(1)}" y="${y1.toFixed(1)}" width="${((d.box.x2 - d.box.x1) * k).toFixed(1)}" height="${((d.box.y2 - d.box.y1) * k).toFixed(1)}" fill="none" stroke="${color}" stroke-width="${stroke}"/>`,
      `<rect x="${x1.toFixed(1)}" y="${labelY.toFixed(1)}" width="${Math.round(text.length * font * 0.6) + 6}" height="${font + 4}" fill="${color}"/>`,
      `<text x="${(x1 + 3).toFixed(1)}" y="${(labelY + font).toFixed(1)}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#000">${text}</text>`,
    );
  }
  const rows = [
    ...[...inView].sort().map(([label, n]) => `${label}: ${n}`),
    ...Object.entries(crossings).map(([name, c]) => `${name}: in ${c.in} / out ${c.out}`),
    frame ? `t = ${frame.time.toFixed(2)} s` : '',
  ].filter(Boolean);
  const panelW = Math.max(...rows.map((r) => r.length), 8) * font * 0.6 + 12;
  parts.push(`<rect x="4" y="4" width="${panelW.toFixed(0)}" height="${rows.length * (font + 4) + 8}" fill="rgba(0,0,0,0.6)"/>`);
  rows.forEach((r, i) => parts.push(`<text x="10" y="${8 + (i + 1) * (font + 4) - 4}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#fff">${escapeXml(r)}</text>`));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}
