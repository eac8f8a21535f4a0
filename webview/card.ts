// One result card: a dry build of one NixOS host or home-manager configuration. All data goes into the DOM as text
// (see dom.ts).

import type { VscodeCollapsible } from '@vscode-elements/elements/dist/vscode-collapsible/vscode-collapsible.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import { kindOf, type ErrorView, type Location, type RunState, type TraceView } from '../src/protocol/dryBuild';
import { actionLink, append, clear, el, icon, iconButton, type IconName } from './dom';
import { formatBytes, formatDuration, kindLabel, matcher, omittedLines, plural, positionLabel, storeName } from './format';
import { MAX_FILTER, PAGE, type CardView } from './state';

/** What a card asks of the panel. */
export interface CardHost {
  view(runId: string): CardView;
  /** The card's view changed: persist it. */
  saved(): void;
  copy(text: string): void;
  open(loc: Location): void;
  rerun(run: RunState): void;
  dismiss(run: RunState): void;
  /** The display name of the run's flake. */
  flakeLabel(run: RunState): string;
  /** False while any run is evaluating (runs go one after another). */
  canRun(): boolean;
}

const STATUS: Record<RunState['state'], { label: string; icon?: IconName }> = {
  evaluating: { label: 'Evaluating' },
  done: { label: 'Done', icon: 'check' },
  failed: { label: 'Failed', icon: 'error' },
  cancelled: { label: 'Cancelled', icon: 'stop' },
};

export class Card {
  readonly root: VscodeCollapsible;
  private run: RunState;
  private renderedRun: RunState | undefined;
  private readonly status = el('span', { class: 'status' });
  private readonly statusIcon = el('span', { class: 'status-icon' });
  private readonly statusLabel = el('span', { class: 'status-label' });
  private readonly statusTime = el('span', { class: 'status-time' });
  private readonly actions = el('div', { class: 'card-actions', attrs: { slot: 'actions' } });
  private readonly rerunButton: HTMLButtonElement;
  private readonly dismissButton: HTMLButtonElement;
  private readonly progressBar = el('vscode-progress-bar', { class: 'card-progress', attrs: { indeterminate: '' } });
  private readonly meta = el('div', { class: 'meta' });
  private readonly progressLine = el('div', { class: 'progress-line', attrs: { role: 'status', 'aria-live': 'polite' } });
  private readonly progressText = el('span', { class: 'progress-text' });
  private readonly summary = el('div', { class: 'summary' });
  private readonly omitted = el('div', { class: 'omitted', attrs: { role: 'note', 'aria-label': 'Left out' } });
  private readonly errors = el('div', { class: 'errors' });
  private readonly filterRow = el('div', { class: 'filter-row' });
  private readonly filter: VscodeTextfield;
  private readonly lists = el('div', { class: 'lists' });
  private readonly log = el('div', { class: 'log-section' });

  constructor(
    run: RunState,
    private readonly host: CardHost,
  ) {
    this.run = run;
    const root = el('vscode-collapsible', { class: 'card' });
    this.root = root;
    root.dataset.runId = run.runId;
    root.heading = run.host;
    root.open = this.viewState().open;
    root.addEventListener('vsc-collapsible-toggle', () => {
      this.viewState().open = root.open;
      this.host.saved();
    });

    append(this.status, this.statusIcon, this.statusLabel, this.statusTime);
    const decorations = el('div', { class: 'card-decorations', attrs: { slot: 'decorations' } }, this.status);
    this.rerunButton = iconButton('play', 'Dry Build Again', () => this.host.rerun(this.run));
    this.dismissButton = iconButton('close', 'Remove Result', () => this.host.dismiss(this.run));
    append(this.actions, this.rerunButton, this.dismissButton);

    this.filter = el('vscode-textfield', { class: 'filter', attrs: { placeholder: 'Filter paths', 'aria-label': 'Filter paths' } });
    this.filter.maxLength = MAX_FILTER;
    this.filter.type = 'search';
    this.filter.value = this.viewState().filter;
    this.filter.addEventListener('input', () => {
      const v = this.viewState();
      v.filter = this.filter.value.slice(0, MAX_FILTER);
      v.buildsShown = PAGE;
      v.fetchesShown = PAGE;
      this.renderLists();
      this.host.saved();
    });
    this.filter.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && this.filter.value) {
        ev.stopPropagation();
        this.filter.value = '';
        this.filter.dispatchEvent(new Event('input'));
      }
    });
    append(this.filterRow, this.filter);
    append(this.progressLine, this.progressText);

    const body = el(
      'div',
      { class: 'card-body' },
      this.meta,
      this.progressLine,
      this.summary,
      this.omitted,
      this.errors,
      this.filterRow,
      this.lists,
      this.log,
    );
    append(root, decorations, this.actions, this.progressBar, body);
    this.update(run);
  }

  get runId(): string {
    return this.run.runId;
  }

  private viewState(): CardView {
    return this.host.view(this.run.runId);
  }

  /** Shows `run` (the same run id); re-renders the results only when the run object changed. */
  update(run: RunState): void {
    this.run = run;
    const running = run.state === 'evaluating';
    this.root.classList.toggle('running', running);
    this.root.dataset.state = run.state;
    this.root.description = describe(run, this.host.flakeLabel(run));
    this.progressBar.hidden = !running;
    this.progressLine.hidden = !running;
    this.dismissButton.hidden = running;
    this.updateRunnable();
    this.updateProgress();
    this.tick(Date.now());
    if (this.renderedRun === run) return;
    this.renderedRun = run;
    this.renderMeta();
    this.renderSummary();
    this.renderOmitted();
    this.renderErrors();
    this.renderLists();
    this.renderLog();
  }

  updateRunnable(): void {
    this.rerunButton.disabled = !this.host.canRun();
  }

  updateProgress(): void {
    this.progressText.textContent = this.run.progress || 'Starting nix…';
    this.progressText.title = this.run.progress ?? '';
  }

  /** Refreshes the status and the elapsed time (live while evaluating). */
  tick(now: number): void {
    const run = this.run;
    const s = STATUS[run.state];
    const elapsed = run.state === 'evaluating' ? now - this.viewState().t0 : run.elapsedMs;
    const label = run.state === 'failed' && run.errors.length > 1 ? `Failed · ${run.errors.length} errors` : s.label;
    if (this.status.dataset.state !== run.state) {
      this.status.dataset.state = run.state;
      clear(this.statusIcon);
      this.statusIcon.appendChild(s.icon ? icon(s.icon) : el('vscode-progress-ring', { class: 'ring', attrs: { 'aria-hidden': 'true' } }));
    }
    if (this.statusLabel.textContent !== label) this.statusLabel.textContent = label;
    const t = formatDuration(elapsed);
    if (this.statusTime.textContent !== t) this.statusTime.textContent = t;
  }

  private renderMeta(): void {
    const run = this.run;
    clear(this.meta);
    const started = new Date(run.startedAt);
    const category = kindOf(run) === 'home' ? 'homeConfigurations' : 'nixosConfigurations';
    const installable = el('span', { class: 'installable', text: `${category}.${attrName(run.host)}`, title: run.flake });
    append(
      this.meta,
      installable,
      el('span', { class: 'meta-sep', text: '·' }),
      el('span', { class: 'meta-flake', text: run.flake, title: run.flake }),
      el('span', { class: 'meta-sep', text: '·' }),
      el('span', { class: 'meta-time', text: `started ${started.toLocaleTimeString()}`, title: started.toLocaleString() }),
    );
  }

  private renderSummary(): void {
    const run = this.run;
    clear(this.summary);
    this.summary.hidden = run.state === 'evaluating';
    const parts: (string | Node)[] = [];
    if (run.state === 'done') {
      const nothing = run.builds.length === 0 && run.fetches.length === 0;
      parts.push(el('strong', { text: 'Evaluates.' }), ' ');
      if (nothing) parts.push('Nothing to build or fetch: everything is already in the store.');
      else {
        parts.push(
          `${plural(run.builds.length, 'derivation', 'derivations')} will be built, ${plural(run.fetches.length, 'path', 'paths')} will be fetched`,
        );
        const size = sizeText(run);
        parts.push(size ? ` (${size}).` : '.');
      }
    } else if (run.state === 'failed') {
      parts.push(
        el('strong', { text: 'Evaluation failed' }),
        run.errors.length ? ` with ${plural(run.errors.length, 'error', 'errors')}.` : '. Nix gave no error message; see the log below.',
      );
    } else if (run.state === 'cancelled') {
      parts.push(el('strong', { text: 'Cancelled' }), ` after ${formatDuration(run.elapsedMs)}.`);
    }
    this.summary.className = `summary summary-${run.state}`;
    append(this.summary, ...parts);
  }

  /** What the run left out to stay within its bounds or its time: said, never silent. */
  private renderOmitted(): void {
    clear(this.omitted);
    const lines = this.run.state === 'evaluating' ? [] : omittedLines(this.run.omitted);
    this.omitted.hidden = lines.length === 0;
    for (const line of lines)
      this.omitted.appendChild(el('div', { class: 'omitted-line' }, icon('info', 'omitted-icon'), el('span', { text: line })));
  }

  private renderErrors(): void {
    clear(this.errors);
    const errors = this.run.errors;
    this.errors.hidden = errors.length === 0;
    errors.forEach((e, i) => this.errors.appendChild(this.errorBlock(e, i)));
  }

  private errorBlock(e: ErrorView, index: number): HTMLElement {
    const head = el(
      'div',
      { class: 'error-head' },
      icon('error', 'error-icon'),
      el('span', { class: 'error-kind', text: kindLabel(e.kind), title: e.kind }),
    );
    if (e.location) head.appendChild(this.locationLink(e.location));
    else if (e.where) head.appendChild(el('span', { class: 'where', text: e.where, title: e.where }));
    head.appendChild(el('span', { class: 'spacer' }));
    head.appendChild(iconButton('copy', 'Copy Error Message', () => this.host.copy(e.message), 'hover-action'));
    const block = el(
      'div',
      { class: 'error', attrs: { role: 'group', 'aria-label': `Error: ${kindLabel(e.kind)}` } },
      head,
      el('pre', { class: 'error-message', text: e.message }),
    );
    if (e.trace.length) block.appendChild(this.traceSection(e.trace, index));
    return block;
  }

  private traceSection(trace: TraceView[], index: number): HTMLElement {
    const view = this.viewState();
    const details = el('details', { class: 'section trace' });
    details.open = view.traceOpen.includes(index);
    const list = el('ol', { class: 'frames' });
    const fill = () => {
      if (list.childElementCount) return;
      for (const f of trace) {
        const li = el('li', { class: 'frame' }, el('span', { class: 'frame-message', text: f.message }));
        if (f.location) li.appendChild(this.locationLink(f.location));
        else if (f.where) li.appendChild(el('span', { class: 'where', text: f.where, title: f.where }));
        list.appendChild(li);
      }
    };
    if (details.open) fill();
    details.addEventListener('toggle', () => {
      if (details.open) fill();
      const set = new Set(view.traceOpen);
      if (details.open) set.add(index);
      else set.delete(index);
      view.traceOpen = [...set].sort((a, b) => a - b);
      this.host.saved();
    });
    append(details, summaryRow(`Trace`, trace.length), list);
    return details;
  }

  private locationLink(loc: Location): HTMLElement {
    const text = positionLabel(loc.label, loc.line, loc.column);
    const a = actionLink(text, () => this.host.open(loc), { class: 'link location', title: `Open ${loc.file}:${loc.line}:${loc.column}` });
    a.prepend(icon('file'));
    return a;
  }

  private renderLists(): void {
    const run = this.run;
    const view = this.viewState();
    clear(this.lists);
    const any = run.builds.length + run.fetches.length > 0;
    this.filterRow.hidden = !any;
    if (!any) return;
    const match = matcher(view.filter);
    append(
      this.lists,
      this.pathSection('builds', 'Will be built', run.builds, match, view.filter, undefined),
      this.pathSection('fetches', 'Will be fetched', run.fetches, match, view.filter, sizeText(run)),
    );
  }

  private pathSection(
    which: 'builds' | 'fetches',
    title: string,
    paths: string[],
    match: (s: string) => boolean,
    query: string,
    extra: string | undefined,
  ): HTMLElement {
    const view = this.viewState();
    const openKey = which === 'builds' ? 'buildsOpen' : 'fetchesOpen';
    const shownKey = which === 'builds' ? 'buildsShown' : 'fetchesShown';
    const hits = query.trim() ? paths.filter(match) : paths;
    const details = el('details', { class: `section paths ${which}` });
    details.open = view[openKey];
    details.addEventListener('toggle', () => {
      view[openKey] = details.open;
      this.host.saved();
    });
    const count = hits.length === paths.length ? String(paths.length) : `${hits.length} of ${paths.length}`;
    const summary = summaryRow(title, count, extra);
    const list = el('ul', { class: 'path-list', attrs: { 'aria-label': title } });
    const shown = Math.min(hits.length, Math.max(PAGE, view[shownKey]));
    for (let i = 0; i < shown; i++) list.appendChild(this.pathRow(hits[i]!, which === 'builds'));
    append(details, summary, list);
    if (paths.length === 0) {
      details.appendChild(el('div', { class: 'empty-list', text: which === 'builds' ? 'Nothing to build.' : 'Nothing to fetch.' }));
    } else if (hits.length === 0) {
      details.appendChild(el('div', { class: 'empty-list', text: `No paths match “${query.trim()}”.` }));
    } else if (shown < hits.length) {
      const rest = hits.length - shown;
      details.appendChild(
        el(
          'div',
          { class: 'more' },
          actionLink(`Show ${Math.min(PAGE, rest).toLocaleString('en-US')} more`, () => {
            view[shownKey] = shown + PAGE;
            this.renderLists();
            this.host.saved();
          }),
          el('span', { class: 'dim', text: ` (${rest.toLocaleString('en-US')} not shown)` }),
        ),
      );
    }
    return details;
  }

  private pathRow(path: string, isDrv: boolean): HTMLElement {
    const row = el(
      'li',
      { class: 'path-row', title: path },
      el('span', { class: isDrv ? 'path-name drv' : 'path-name', text: storeName(path) }),
      el('span', { class: 'path-full', text: path }),
      iconButton('copy', 'Copy Store Path', () => this.host.copy(path), 'hover-action'),
    );
    return row;
  }

  private renderLog(): void {
    const lines = this.run.log;
    clear(this.log);
    this.log.hidden = lines.length === 0 || this.run.state === 'evaluating';
    if (this.log.hidden) return;
    const view = this.viewState();
    const details = el('details', { class: 'section log' });
    details.open = view.logOpen;
    const pre = el('pre', { class: 'raw-log' });
    const fill = () => {
      if (!pre.textContent) pre.textContent = lines.join('\n');
    };
    if (details.open) fill();
    details.addEventListener('toggle', () => {
      if (details.open) fill();
      view.logOpen = details.open;
      this.host.saved();
    });
    const copy = iconButton('copy', 'Copy Log', () => this.host.copy(lines.join('\n')), 'hover-action');
    const earlier = this.run.omitted?.logLines ?? 0;
    const count = earlier
      ? `last ${lines.length.toLocaleString('en-US')} of ${(lines.length + earlier).toLocaleString('en-US')} lines`
      : lines.length === 1
        ? '1 line'
        : `last ${lines.length} lines`;
    const summary = summaryRow('Raw log', undefined, count, copy);
    append(details, summary, pre);
    this.log.appendChild(details);
  }
}

/** The header's secondary text: the flake (and home-manager), what a finished run found (to compare collapsed cards). */
function describe(run: RunState, flakeLabel: string): string {
  const parts = flakeLabel ? [flakeLabel] : [];
  if (kindOf(run) === 'home') parts.push('home-manager');
  if (run.state === 'done')
    parts.push(`${run.builds.length.toLocaleString('en-US')} to build`, `${run.fetches.length.toLocaleString('en-US')} to fetch`);
  if (run.state === 'done' && run.downloadBytes !== undefined) parts.push(formatBytes(run.downloadBytes));
  return parts.join(' · ');
}

/** An attribute name as Nix prints it: bare when it is an identifier, quoted otherwise. */
function attrName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_'-]*$/.test(name) ? name : JSON.stringify(name);
}

function sizeText(run: RunState): string | undefined {
  const parts: string[] = [];
  if (run.downloadBytes !== undefined) parts.push(`${formatBytes(run.downloadBytes)} download`);
  if (run.unpackedBytes !== undefined) parts.push(`${formatBytes(run.unpackedBytes)} unpacked`);
  return parts.length ? parts.join(', ') : undefined;
}

/** A `<summary>` row: chevron, title, count badge, optional secondary text and action. */
function summaryRow(title: string, count: string | number | undefined, extra?: string, action?: HTMLElement): HTMLElement {
  let badge: HTMLElement | null = null;
  if (count !== undefined) {
    const b = el('vscode-badge', { class: 'count', text: String(count) });
    b.variant = 'counter';
    badge = b;
  }
  return el(
    'summary',
    { class: 'section-head' },
    icon('chevron', 'twistie'),
    el('span', { class: 'section-title', text: title }),
    badge,
    extra ? el('span', { class: 'section-extra', text: extra }) : null,
    action ? el('span', { class: 'spacer' }) : null,
    action ?? null,
  );
}
