// DOM helpers. Data from the extension (and so from Nix) only ever goes into `textContent`, `title`,
// `aria-label` and component properties rendered as text: never into `innerHTML` or an HTML string.

type Child = Node | string | null | undefined | false;

export interface ElOptions {
  class?: string;
  text?: string;
  title?: string;
  /** Static attribute names from this code; values may be data (they are never parsed as HTML). */
  attrs?: Record<string, string>;
}

/** Creates an element with text, attributes and children. Strings are added as text nodes. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, opts: ElOptions = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (opts.class) node.className = opts.class;
  if (opts.text !== undefined) node.textContent = opts.text;
  if (opts.title !== undefined) node.title = opts.title;
  if (opts.attrs) for (const [k, v] of Object.entries(opts.attrs)) node.setAttribute(k, v);
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

export function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

const SVG = 'http://www.w3.org/2000/svg';

/**
 * 16×16 icons drawn for this panel (the codicon font is not loaded), in `currentColor`.
 * Each is a list of [element, attributes] with static values only.
 */
const ICONS = {
  check: [['path', { d: 'M3 8.5l3.2 3.2L13 4.8', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.4' }]],
  error: [
    ['circle', { cx: '8', cy: '8', r: '6', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.2' }],
    ['path', { d: 'M5.8 5.8l4.4 4.4M10.2 5.8l-4.4 4.4', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.2' }],
  ],
  warning: [
    ['path', { d: 'M8 2.2L14.3 13.5H1.7z', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.2', 'stroke-linejoin': 'round' }],
    ['path', { d: 'M8 6.2v3.6M8 11v1.2', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.2' }],
  ],
  info: [
    ['circle', { cx: '8', cy: '8', r: '6', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.2' }],
    ['path', { d: 'M8 7v4.2M8 4.8V6', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.2' }],
  ],
  stop: [
    ['circle', { cx: '8', cy: '8', r: '6', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.2' }],
    ['rect', { x: '5.8', y: '5.8', width: '4.4', height: '4.4', fill: 'currentColor' }],
  ],
  copy: [
    ['rect', { x: '5.5', y: '5.5', width: '8', height: '8', rx: '1', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.1' }],
    [
      'path',
      {
        d: 'M3.5 10.5h-.5a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1h6.5a1 1 0 0 1 1 1v.5',
        fill: 'none',
        stroke: 'currentColor',
        'stroke-width': '1.1',
      },
    ],
  ],
  play: [['path', { d: 'M4.5 2.8v10.4L13 8z', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.2', 'stroke-linejoin': 'round' }]],
  close: [['path', { d: 'M4 4l8 8M12 4l-8 8', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.2' }]],
  chevron: [['path', { d: 'M6 3.5L10.5 8 6 12.5', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.2' }]],
  file: [
    ['path', { d: 'M4 1.5h5l3 3v10H4z', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.1', 'stroke-linejoin': 'round' }],
    ['path', { d: 'M9 1.5v3h3', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.1' }],
  ],
  clearAll: [['path', { d: 'M2 4h8M2 7.5h8M2 11h5M10 10l4 4M14 10l-4 4', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.1' }]],
} as const satisfies Record<string, readonly (readonly [string, Record<string, string>])[]>;

export type IconName = keyof typeof ICONS;

export function icon(name: IconName, cls = ''): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '16');
  svg.setAttribute('height', '16');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', `icon icon-${name}${cls ? ` ${cls}` : ''}`);
  for (const [tag, attrs] of ICONS[name]) {
    const part = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) part.setAttribute(k, v);
    svg.appendChild(part);
  }
  return svg;
}

/** A toolbar-style icon button (like VS Code's action bar items). */
export function iconButton(name: IconName, label: string, onClick: (ev: MouseEvent) => void, cls = ''): HTMLButtonElement {
  const b = el(
    'button',
    { class: `icon-button${cls ? ` ${cls}` : ''}`, title: label, attrs: { type: 'button', 'aria-label': label } },
    icon(name),
  );
  b.addEventListener('click', (ev) => {
    ev.stopPropagation();
    onClick(ev);
  });
  return b;
}

/** A text link that runs `onClick` (Enter and Space too); not a navigation. */
export function actionLink(text: string, onClick: () => void, opts: { class?: string; title?: string } = {}): HTMLAnchorElement {
  const a = el('a', { class: opts.class ?? 'link', text, title: opts.title, attrs: { href: '#', role: 'button' } });
  a.addEventListener('click', (ev) => {
    ev.preventDefault();
    ev.stopPropagation();
    onClick();
  });
  a.addEventListener('keydown', (ev) => {
    if (ev.key === ' ') {
      ev.preventDefault();
      onClick();
    }
  });
  return a;
}
