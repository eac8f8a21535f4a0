// Renders one DeployView: the heading (action, configuration, where), the phase, the summary, the table of changed
// packages (versions before and after, size delta), the message and the store paths. Text only: no HTML from data.

import { el, clear } from '../dom';
import { formatBytes } from '../format';
import { formatSizeDelta } from '../../src/core/deploy/diff';
import type { ApplyAction, ChangeView, DeployPhase, DeployView } from '../../src/protocol/deploy';

const ACTION: Record<string, string> = {
  preview: 'What would change',
  switch: 'Switch',
  boot: 'Boot',
  test: 'Test',
  'dry-activate': 'Dry activate',
  build: 'Build',
  activate: 'Activate',
};

const PHASE: Record<DeployPhase, string> = {
  building: 'Building',
  comparing: 'Comparing',
  confirming: 'Waiting for your confirmation',
  applying: 'Deploying',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  declined: 'Not deployed',
};

const BUTTON: Record<ApplyAction, string> = {
  switch: 'Switch…',
  boot: 'Boot…',
  test: 'Test…',
  'dry-activate': 'Dry Activate…',
  activate: 'Activate…',
};

function versions(v: readonly string[]): string {
  if (v.length === 0) return '—';
  return v.map((x) => (x === '' ? '(no version)' : x)).join(', ');
}

function counts(changes: readonly ChangeView[]): string[] {
  const n = (k: ChangeView['kind']) => changes.filter((c) => c.kind === k).length;
  const out: string[] = [];
  if (n('changed')) out.push(`${n('changed')} changed`);
  if (n('added')) out.push(`${n('added')} added`);
  if (n('removed')) out.push(`${n('removed')} removed`);
  if (n('size')) out.push(`${n('size')} resized`);
  return out;
}

function changesTable(changes: readonly ChangeView[]): HTMLTableElement {
  const head = el(
    'tr',
    {},
    el('th', { text: 'Package' }),
    el('th', { text: 'Before' }),
    el('th', { text: '' }),
    el('th', { text: 'After' }),
    el('th', { text: 'Size', class: 'num' }),
  );
  const rows = changes.map((c) =>
    el(
      'tr',
      { class: `change ${c.kind}`, attrs: { 'data-name': c.name } },
      el('td', { class: 'name', text: c.name }),
      el('td', { class: 'before', text: versions(c.before) }),
      el('td', { class: 'arrow dim', text: c.kind === 'size' ? '' : '→' }),
      el('td', { class: 'after', text: versions(c.after) }),
      el('td', {
        class: `num size ${c.sizeDelta === undefined ? '' : c.sizeDelta < 0 ? 'shrink' : 'grow'}`,
        text: c.sizeDelta === undefined ? '' : formatSizeDelta(c.sizeDelta),
      }),
    ),
  );
  return el('table', { class: 'changes' }, el('thead', {}, head), el('tbody', {}, ...rows));
}

export function render(root: HTMLElement, v: DeployView, apply: (a: ApplyAction) => void): void {
  clear(root);
  const where = v.action === 'build' ? '' : v.kind === 'home' ? ' (home-manager)' : ` on ${v.target}`;
  const title =
    v.action === 'preview'
      ? `What would change on ${v.config}${v.kind === 'home' ? ' (home-manager)' : ` (${v.target})`}`
      : `${ACTION[v.action] ?? v.action} ${v.config}${where}`;
  const busy = v.phase === 'building' || v.phase === 'comparing' || v.phase === 'applying';
  root.append(
    el('header', {}, el('h1', { class: 'title', text: title }), el('div', { class: 'flake dim', text: `Flake: ${v.flakeLabel}` })),
    el(
      'div',
      { class: `phase phase-${v.phase}` },
      el('vscode-badge', { class: 'phase-badge', text: PHASE[v.phase] }),
      v.step && busy ? el('span', { class: 'step dim', text: v.step }) : null,
    ),
  );
  if (busy) root.append(el('vscode-progress-bar', { class: 'progress', attrs: { indeterminate: '' } }));
  if (v.diff) {
    const d = v.diff;
    const parts = counts(d.changes);
    const summary = el(
      'div',
      { class: 'summary' },
      el('span', { class: 'counts', text: parts.length ? parts.join(' · ') : 'No package versions change' }),
      el('span', { class: `delta ${d.sizeDelta < 0 ? 'shrink' : 'grow'}`, text: formatSizeDelta(d.sizeDelta) }),
      d.sizeBefore !== undefined && d.sizeAfter !== undefined
        ? el('span', { class: 'sizes dim', text: `closure ${formatBytes(d.sizeBefore)} → ${formatBytes(d.sizeAfter)}` })
        : null,
    );
    root.append(summary);
    if (d.changes.length) root.append(changesTable(d.changes));
    else root.append(el('p', { class: 'empty dim', text: 'The closures hold the same packages at the same versions.' }));
    if (d.omitted) root.append(el('p', { class: 'omitted dim', text: `${d.omitted} more lines of the diff are not shown.` }));
  } else if (v.current === null) {
    root.append(
      el('p', {
        class: 'first',
        text: `${v.target} runs nothing of this configuration yet: this is a first deployment, everything is new.`,
      }),
    );
  }
  if (v.message) root.append(el('pre', { class: `message phase-${v.phase}`, text: v.message }));
  if (v.generation !== undefined) root.append(el('div', { class: 'generation', text: `Generation ${v.generation}` }));
  const paths = el('dl', { class: 'paths' });
  if (v.current)
    paths.append(
      el('dt', { text: v.phase === 'done' && v.action !== 'preview' ? 'Before' : 'Now' }),
      el('dd', { class: 'path', text: v.current }),
    );
  if (v.toplevel) paths.append(el('dt', { text: 'New' }), el('dd', { class: 'path', text: v.toplevel }));
  if (paths.childElementCount) root.append(paths);
  if (v.actions.length) {
    const bar = el('div', { class: 'actions' });
    for (const a of v.actions) {
      const b = el('vscode-button', { class: `apply apply-${a}`, text: BUTTON[a] });
      if (a !== v.actions[0]) b.setAttribute('secondary', '');
      b.addEventListener('click', () => apply(a));
      bar.append(b);
    }
    root.append(bar);
  }
}
