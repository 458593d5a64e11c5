import type { Corners } from '@spotter/shared';

export type Point = readonly [number, number];
export type Anchor = 'bottom_center' | 'center';

/** The point of a box that crosses lines and enters zones: where it stands, or its centre. */
export function anchorOf(box: Corners, anchor: Anchor): Point {
  return [(box.x1 + box.x2) / 2, anchor === 'center' ? (box.y1 + box.y2) / 2 : box.y2];
}

/** Which side of the directed line a -> b the point p is on: 1 right (y grows downwards in images), -1 left, 0 on it. */
export function sideOf(a: Point, b: Point, p: Point): number {
  const cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
  return cross > 0 ? 1 : cross < 0 ? -1 : 0;
}

/** Whether the moves p -> q and the segment a -> b cross (touching counts). */
export function crosses(a: Point, b: Point, p: Point, q: Point): boolean {
  const d1 = sideOf(a, b, p);
  const d2 = sideOf(a, b, q);
  const d3 = sideOf(p, q, a);
  const d4 = sideOf(p, q, b);
  return d1 !== d2 && d3 !== d4 && !(d3 === 0 && d4 === 0);
}

/** Whether p is inside the polygon (even-odd rule). */
export function insidePolygon(poly: readonly Point[], p: Point): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
