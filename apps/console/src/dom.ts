// A tiny element builder: pages build the DOM from data, never from HTML strings, so no
// text a server or an image sends can ever become markup.

type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;
type Child = Node | string | number | null | undefined | false;

/** An element with attributes (`on*` keys become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element, same rules as `h`. */
export function s(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag) as SVGElement;
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el: Element, attrs: Attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (v === true) el.setAttribute(k, '');
    else if (v !== false && v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
}

function append(el: Element, children: Child[]) {
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'number' ? String(c) : c);
}

/** Replaces an element's children. */
export function replace(el: Element, ...children: Child[]) {
  el.replaceChildren();
  append(el, children);
}

/** A status line that screen readers announce when it changes. */
export function liveRegion(className = 'status'): HTMLParagraphElement {
  return h('p', { class: className, role: 'status', 'aria-live': 'polite' });
}

/** A plain-sentence error box (role=alert). */
export function errorBox(message: string): HTMLParagraphElement {
  return h('p', { class: 'error', role: 'alert' }, message);
}

/** A table with a caption and header row; wrapped so it scrolls sideways on a phone. */
export function table(caption: string, headers: string[], rows: Child[][], attrs: Attrs = {}): HTMLDivElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      attrs,
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))),
    ),
  );
}
