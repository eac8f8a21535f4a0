// The hosts the panel offers: every host of every flake's nixosConfigurations, from the outputs listing (which never
// evaluates the hosts), and the one the user chose last (kept in the workspace state).
import type { Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import type { OutputsService } from '../../workspace/outputs';
import { fitList, fitText, LIMITS, type HostEntry, type HostRef } from '../../protocol/dryBuild';

const SELECTED_KEY = 'nixFlakes.dryBuild.selected';

export class HostList {
  private hosts: HostEntry[] = [];
  private flakesByKey = new Map<string, Flake>();
  private listed = false;

  constructor(
    private readonly ctx: Ctx,
    private readonly outputs: OutputsService,
  ) {}

  /** Lists the hosts again (Restricted Mode: none). */
  async list(): Promise<HostEntry[]> {
    const out: HostEntry[] = [];
    const byKey = new Map<string, Flake>();
    if (this.ctx.trusted) {
      for (const flake of await this.ctx.flakes()) {
        const s = await this.outputs.ensure(flake);
        const cat = s.model?.categories.find((c) => c.name === 'nixosConfigurations');
        if (!cat) continue;
        byKey.set(flake.uri.fsPath, flake);
        for (const leaf of cat.leaves)
          out.push({ flake: fitText(flake.uri.fsPath, LIMITS.path), flakeLabel: fitText(flake.label, LIMITS.name), host: leaf.name });
      }
    }
    this.flakesByKey = byKey;
    this.hosts = fitList(
      out.filter((h) => h.host.length <= LIMITS.name),
      LIMITS.hosts,
    );
    this.listed = true;
    return this.hosts;
  }

  /** The hosts listed last, or a new listing when there is none yet (or it was empty). */
  async current(): Promise<HostEntry[]> {
    return this.listed && this.hosts.length ? this.hosts : this.list();
  }

  /** The flake of a host in the last listing; undefined for anything else the webview names. */
  find(flakeKey: string, host: string): Flake | undefined {
    return this.hosts.some((h) => h.flake === flakeKey && h.host === host) ? this.flakesByKey.get(flakeKey) : undefined;
  }

  /** The remembered choice, when it is among `hosts`. */
  selected(hosts: readonly HostEntry[]): HostRef | undefined {
    const s = this.ctx.extension.workspaceState.get<HostRef>(SELECTED_KEY);
    return s && hosts.some((h) => h.flake === s.flake && h.host === s.host) ? { flake: s.flake, host: s.host } : undefined;
  }

  async remember(choice: HostRef): Promise<void> {
    await this.ctx.extension.workspaceState.update(SELECTED_KEY, { flake: choice.flake, host: choice.host });
  }
}
