import type { Detection } from '@spotter/shared';
import { h, replace, s, table } from './dom.js';
import { num } from './format.js';

export interface DetectionsView {
  element: HTMLElement;
  /** Shows a new answer over the same picture. */
  update(detections: readonly Detection[]): void;
}

// One colour per class, spread around the hue circle, readable on photos.
const colour = (classId: number) => `hsl(${(classId * 137.508) % 360} 85% 55%)`;

/**
 * The picture with the boxes drawn by the page from the JSON (SVG over the image, each rect
 * carrying its detection as data attributes), a score slider that filters live, and a table.
 * `source` names the answer (server, browser) in the DOM and in labels.
 */
export function detectionsView(opts: {
  imageUrl: string;
  width: number;
  height: number;
  detections: readonly Detection[];
  source: string;
  title: string;
  minScore?: number;
}): DetectionsView {
  let detections = opts.detections;
  const id = `${opts.source}-${Math.random().toString(36).slice(2, 8)}`;
  const svg = s('svg', {
    viewBox: `0 0 ${opts.width} ${opts.height}`,
    preserveAspectRatio: 'none',
    class: 'boxes',
    'data-source': opts.source,
    role: 'img',
    'aria-label': `${opts.title}: detected objects`,
  });
  const img = h('img', { src: opts.imageUrl, alt: `${opts.title}: the uploaded picture`, width: opts.width, height: opts.height });
  const slider = h('input', { type: 'range', id: `${id}-score`, min: 0, max: 1, step: 0.01, value: opts.minScore ?? 0.25, 'data-role': 'score-filter' });
  const shown = h('output', { for: `${id}-score` });
  const tableHolder = h('div');
  const count = h('p', { class: 'muted' });

  const render = () => {
    const min = Number(slider.value);
    const kept = detections.filter((d) => d.score >= min);
    shown.textContent = min.toFixed(2);
    count.textContent = `${kept.length} of ${detections.length} detections at score ≥ ${min.toFixed(2)}`;
    // Stroke width in image pixels, so boxes look the same on large and small pictures.
    const stroke = Math.max(2, Math.round(Math.max(opts.width, opts.height) / 300));
    const font = Math.max(12, Math.round(Math.max(opts.width, opts.height) / 45));
    replace(
      svg,
      ...kept.map((d) => {
        const { x1, y1, x2, y2 } = d.box;
        const c = colour(d.class_id);
        const text = `${d.label} ${d.score.toFixed(2)}`;
        return s(
          'g',
          {},
          s('rect', {
            x: x1,
            y: y1,
            width: Math.max(0, x2 - x1),
            height: Math.max(0, y2 - y1),
            stroke: c,
            'stroke-width': stroke,
            fill: 'none',
            'data-label': d.label,
            'data-class-id': d.class_id,
            'data-score': d.score,
            'data-x1': x1,
            'data-y1': y1,
            'data-x2': x2,
            'data-y2': y2,
          }),
          s('rect', { x: x1, y: Math.max(0, y1 - font * 1.3), width: text.length * font * 0.6, height: font * 1.3, fill: c, class: 'tag' }),
          s('text', { x: x1 + font * 0.2, y: Math.max(font, y1 - font * 0.3), 'font-size': font, class: 'tag-text' }, text),
        );
      }),
    );
    replace(
      tableHolder,
      table(
        `${opts.title}: detections`,
        ['#', 'Label', 'Score', 'x1', 'y1', 'x2', 'y2'],
        kept.map((d, i) => [i + 1, d.label, num(d.score, 3), num(d.box.x1, 1), num(d.box.y1, 1), num(d.box.x2, 1), num(d.box.y2, 1)]),
        { 'data-source': opts.source },
      ),
    );
  };
  slider.addEventListener('input', render);
  render();

  const element = h(
    'section',
    { class: 'detections', 'aria-label': opts.title },
    h('h3', {}, opts.title),
    h('figure', { class: 'stage' }, img, svg),
    h('div', { class: 'slider' }, h('label', { for: `${id}-score` }, 'Show scores from'), slider, shown),
    count,
    tableHolder,
  );
  return {
    element,
    update(next) {
      detections = next;
      render();
    },
  };
}
