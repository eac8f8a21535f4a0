// The panel: the picker of NixOS hosts and home-manager configurations and its actions, notice, result cards. Talks
// to the extension only through validated messages (src/protocol/dryBuild.ts).

import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import {
  hostRef,
  isToWebview,
  kindOf,
  PROTOCOL_VERSION,
  type HostEntry,
  type HostRef,
  type Location,
  type RunState,
  type ToExtension,
} from '../src/protocol/dryBuild';
import { Card, type CardHost } from './card';
import { append, clear, el, icon, iconButton } from './dom';
import { apply, currentHost, defaultView, emptyState, hostKey, restore, runningRun, sameHost, type CardView, type UiState } from './state';
import type { VsCodeApi } from './vscodeApi';

/** How long the Run button waits for `runStarted` (or a notice) before it can be pressed again. */
const PENDING_MS = 10_000;

export class App implements CardHost {
  private state: UiState;
  private readonly cards = new Map<string, Card>();
  private pending: ReturnType<typeof setTimeout> | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;
  /** Option value → host. Values are indexes, never data. */
  private optionHosts = new Map<string, HostEntry>();

  private readonly picker: VscodeSingleSelect;
  private readonly runButton: VscodeButton;
  private readonly cancelButton: VscodeButton;
  private readonly clearButton: HTMLButtonElement;
  private readonly pickerLabel = el('label', { class: 'picker-label', text: 'Host' });
  private readonly hostInfo = el('div', { class: 'host-info' });
  private readonly notice = el('div', { class: 'notice', attrs: { role: 'alert' } });
  private readonly empty = el('div', { class: 'empty-state' });
  private readonly cardList = el('div', { class: 'cards', attrs: { 'aria-label': 'Dry build results' } });

  constructor(
    private readonly root: HTMLElement,
    private readonly vscode: VsCodeApi<unknown>,
  ) {
    this.state = restore(vscode.getState(), Date.now()) ?? emptyState();

    this.picker = el('vscode-single-select', { class: 'picker', attrs: { 'aria-label': 'NixOS host' } });
    this.picker.addEventListener('change', () => this.onPick());
    this.runButton = el('vscode-button', {
      class: 'run',
      text: 'Dry Build',
      title: 'Evaluate the configuration and list what would be built and fetched',
    });
    this.runButton.addEventListener('click', () => this.onRun());
    this.cancelButton = el('vscode-button', { class: 'cancel', text: 'Cancel', title: 'Stop the running dry build' });
    this.cancelButton.secondary = true;
    this.cancelButton.addEventListener('click', () => this.onCancel());
    this.clearButton = iconButton('clearAll', 'Clear Finished Results', () => this.onClear(), 'clear-results');

    const toolbar = el(
      'div',
      { class: 'toolbar' },
      this.pickerLabel,
      this.picker,
      this.runButton,
      this.cancelButton,
      el('span', { class: 'spacer' }),
      this.clearButton,
      this.hostInfo,
    );
    const header = el('header', { class: 'header' }, toolbar);
    append(this.root, header, this.notice, this.empty, this.cardList);
  }

  /** Renders the restored state, listens for messages, and tells the extension it is ready. */
  start(): void {
    this.renderAll();
    window.addEventListener('message', (ev: MessageEvent) => this.onMessage(ev.data));
    this.post({ type: 'ready', protocolVersion: PROTOCOL_VERSION });
  }

  private post(msg: ToExtension): void {
    this.vscode.postMessage(msg);
  }

  private save(): void {
    this.vscode.setState(this.state);
  }

  private onMessage(data: unknown): void {
    if (!isToWebview(data)) return; // untrusted or malformed: ignored
    if (data.type === 'runStarted' || data.type === 'notice' || data.type === 'init') this.setPending(false);
    const change = apply(this.state, data, Date.now());
    switch (change.kind) {
      case 'none':
        return;
      case 'progress':
        this.cards.get(change.runId)?.updateProgress();
        return; // progress is not worth a setState
      case 'hosts':
        this.renderHosts();
        this.renderToolbar();
        break;
      case 'notice':
        this.renderNotice();
        break;
      case 'run':
      case 'all':
        this.renderAll();
        break;
    }
    this.save();
  }

  // ----- CardHost

  view(runId: string): CardView {
    let v = this.state.views[runId];
    if (!v) {
      const run = this.state.runs.find((r) => r.runId === runId);
      v = defaultView(run ?? { elapsedMs: 0 }, Date.now());
      this.state.views[runId] = v;
    }
    return v;
  }

  saved(): void {
    this.save();
  }

  copy(text: string): void {
    if (text) this.post({ type: 'copy', text });
  }

  open(loc: Location): void {
    this.post({ type: 'open', file: loc.file, line: loc.line, column: loc.column });
  }

  rerun(run: RunState): void {
    if (!this.canRun()) return;
    const ref = hostRef(run.flake, run.host, kindOf(run));
    this.select(ref);
    this.post({ type: 'run', ...ref });
    this.setPending(true);
  }

  dismiss(run: RunState): void {
    if (run.state === 'evaluating') return;
    this.state.runs = this.state.runs.filter((r) => r.runId !== run.runId);
    delete this.state.views[run.runId];
    this.post({ type: 'dismiss', runId: run.runId });
    this.renderAll();
    this.save();
  }

  flakeLabel(run: RunState): string {
    return this.state.hosts.find((h) => h.flake === run.flake)?.flakeLabel ?? '';
  }

  canRun(): boolean {
    return !runningRun(this.state) && this.pending === undefined;
  }

  // ----- toolbar actions

  private onPick(): void {
    const h = this.optionHosts.get(this.picker.value);
    if (h) this.select(h, true);
  }

  /** Makes `h` the chosen configuration (`fromPicker`: the picker already shows it). */
  private select(h: HostRef, fromPicker = false): void {
    const cur = this.state.selected;
    if (cur && sameHost(cur, h)) return;
    const ref = hostRef(h.flake, h.host, kindOf(h));
    this.state.selected = ref;
    this.post({ type: 'select', ...ref });
    if (fromPicker) this.renderHostInfo();
    else this.renderHosts();
    this.renderToolbar();
    this.save();
  }

  private onRun(): void {
    const h = currentHost(this.state);
    if (!h || !this.canRun()) return;
    if (!this.state.selected) this.select(h);
    this.post({ type: 'run', ...hostRef(h.flake, h.host, kindOf(h)) });
    this.setPending(true);
  }

  private onCancel(): void {
    const run = runningRun(this.state);
    if (run) this.post({ type: 'cancel', runId: run.runId });
  }

  private onClear(): void {
    const keep = this.state.runs.filter((r) => r.state === 'evaluating');
    if (keep.length === this.state.runs.length) return;
    for (const r of this.state.runs) if (r.state !== 'evaluating') delete this.state.views[r.runId];
    this.state.runs = keep;
    this.post({ type: 'clear' });
    this.renderAll();
    this.save();
  }

  private setPending(on: boolean): void {
    if (this.pending !== undefined) clearTimeout(this.pending);
    this.pending = on
      ? setTimeout(() => {
          this.pending = undefined;
          this.renderToolbar();
        }, PENDING_MS)
      : undefined;
    this.renderToolbar();
  }

  // ----- rendering

  private renderAll(): void {
    this.renderHosts();
    this.renderNotice();
    this.renderCards();
    this.renderToolbar();
  }

  private renderHosts(): void {
    const { hosts, loading } = this.state;
    const current = currentHost(this.state);
    clear(this.picker);
    this.optionHosts = new Map();
    // Grouped by flake when there are several, and by kind when there are home-manager configurations.
    const manyFlakes = new Set(hosts.map((h) => h.flake)).size > 1;
    const homes = hosts.some((h) => kindOf(h) === 'home');
    const grouped = manyFlakes || homes;
    this.pickerLabel.textContent = homes ? 'Configuration' : 'Host';
    this.picker.setAttribute('aria-label', homes ? 'NixOS host or home-manager configuration' : 'NixOS host');
    if (hosts.length === 0) {
      const o = el('vscode-option', {
        text: loading ? 'Looking for NixOS hosts and home configurations…' : 'No nixosConfigurations or homeConfigurations found',
      });
      o.value = '';
      o.selected = true;
      this.picker.appendChild(o);
    }
    let lastGroup: string | undefined;
    hosts.forEach((h, i) => {
      const home = kindOf(h) === 'home';
      const group = JSON.stringify([h.flake, kindOf(h)]);
      if (grouped && group !== lastGroup) {
        // A group header: not selectable.
        const title = [manyFlakes ? h.flakeLabel.toLocaleUpperCase() : '', homes ? (home ? 'HOME-MANAGER' : 'NIXOS') : '']
          .filter(Boolean)
          .join(' · ');
        const g = el('vscode-option', { text: title });
        g.value = `g${i}`;
        g.disabled = true;
        g.description = home ? `homeConfigurations · ${h.flake}` : homes ? `nixosConfigurations · ${h.flake}` : h.flake;
        this.picker.appendChild(g);
      }
      lastGroup = group;
      const o = el('vscode-option', { text: grouped ? `\u2003${h.host}` : h.host });
      o.value = `h${i}`;
      const where = grouped && manyFlakes ? `${h.flakeLabel} · ${h.flake}` : h.flake;
      o.description = home ? `home-manager · ${where}` : where;
      if (current && sameHost(h, current)) o.selected = true;
      this.optionHosts.set(o.value, h);
      this.picker.appendChild(o);
    });
    for (const [value, h] of this.optionHosts) {
      if (current && sameHost(h, current)) this.picker.value = value;
    }
    this.picker.disabled = hosts.length === 0;
    this.renderHostInfo();
  }

  private renderHostInfo(): void {
    const current = currentHost(this.state);
    clear(this.hostInfo);
    if (current) {
      if (kindOf(current) === 'home')
        append(
          this.hostInfo,
          el('span', { class: 'host-kind', text: 'home-manager', title: `homeConfigurations.${current.host}` }),
          el('span', { class: 'meta-sep', text: '·' }),
        );
      append(
        this.hostInfo,
        el('span', { class: 'host-flake', text: current.flakeLabel, title: current.flake }),
        el('span', { class: 'meta-sep', text: '·' }),
        el('span', { class: 'host-path', text: current.flake, title: current.flake }),
      );
    }
    this.hostInfo.hidden = !current;
  }

  private renderToolbar(): void {
    const running = runningRun(this.state);
    const host = currentHost(this.state);
    this.runButton.disabled = !host || !this.canRun();
    this.cancelButton.hidden = !running;
    this.clearButton.hidden = !this.state.runs.some((r) => r.state !== 'evaluating');
    for (const c of this.cards.values()) c.updateRunnable();
    this.renderEmpty();
  }

  private renderNotice(): void {
    const n = this.state.notice;
    clear(this.notice);
    this.notice.hidden = !n;
    if (!n) return;
    this.notice.className = `notice notice-${n.level}`;
    append(
      this.notice,
      icon(n.level === 'error' ? 'error' : n.level === 'warning' ? 'warning' : 'info', 'notice-icon'),
      el('span', { class: 'notice-text', text: n.text }),
      iconButton('close', 'Dismiss', () => {
        this.state.notice = undefined;
        this.renderNotice();
        this.save();
      }),
    );
  }

  private renderEmpty(): void {
    const { hosts, loading, runs } = this.state;
    this.empty.hidden = runs.length > 0;
    if (this.empty.hidden) return;
    const text = loading
      ? 'Looking for the nixosConfigurations and homeConfigurations of the flakes in this workspace…'
      : hosts.length === 0
        ? 'No flake in this workspace has nixosConfigurations or homeConfigurations.'
        : 'Pick a host or home configuration and press Dry Build to see whether it evaluates, and what switching to it would build and download. Results of several stay here side by side for comparison.';
    if (this.empty.textContent !== text) this.empty.textContent = text;
  }

  private renderCards(): void {
    const seen = new Set<string>();
    let prev: Element | null = null;
    const hostSeen = new Set<string>();
    for (const run of this.state.runs) {
      if (hostSeen.has(hostKey(run))) continue;
      hostSeen.add(hostKey(run));
      seen.add(run.runId);
      let card = this.cards.get(run.runId);
      if (card) card.update(run);
      else {
        card = new Card(run, this);
        this.cards.set(run.runId, card);
      }
      // Keep DOM order = state order (newest first), moving nodes only when needed.
      const want: Element | null = prev ? prev.nextElementSibling : this.cardList.firstElementChild;
      if (want !== card.root) this.cardList.insertBefore(card.root, want);
      prev = card.root;
    }
    for (const [id, card] of this.cards) {
      if (!seen.has(id)) {
        card.root.remove();
        this.cards.delete(id);
      }
    }
    this.updateTicker();
  }

  /** Ticks the elapsed time of running cards. */
  private updateTicker(): void {
    const running = this.state.runs.some((r) => r.state === 'evaluating');
    if (running && this.ticker === undefined) {
      this.ticker = setInterval(() => {
        const now = Date.now();
        for (const c of this.cards.values()) c.tick(now);
      }, 200);
    } else if (!running && this.ticker !== undefined) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }
}
