// The configurations the panel offers: every host of every flake's nixosConfigurations and every home-manager
// configuration of its homeConfigurations, from the outputs listing (which never evaluates them), and the one the
// user chose last (kept in the workspace state).
import type { Ctx } from '../../context';
import type { Flake } from '../../workspace/flakes';
import type { OutputsService } from '../../workspace/outputs';
import {
  fitList,
  fitText,
  hostRef,
  kindOf,
  LIMITS,
  sameHost,
  type ConfigKind,
  type HostEntry,
  type HostRef,
} from '../../protocol/dryBuild';

const SELECTED_KEY = 'nixFlakes.dryBuild.selected';

/** The output category of each kind of configuration. */
export const CATEGORY: Record<ConfigKind, string> = { nixos: 'nixosConfigurations', home: 'homeConfigurations' };

export class HostList {
  private hosts: HostEntry[] = [];
  private flakesByKey = new Map<string, Flake>();
  private listed = false;

  constructor(
    private readonly ctx: Ctx,
    private readonly outputs: OutputsService,
  ) {}

  /** Lists the configurations again, per flake its NixOS hosts then its home configurations (Restricted Mode: none). */
  async list(): Promise<HostEntry[]> {
    const out: HostEntry[] = [];
    const byKey = new Map<string, Flake>();
    if (this.ctx.trusted) {
      for (const flake of await this.ctx.flakes()) {
        const s = await this.outputs.ensure(flake);
        for (const kind of ['nixos', 'home'] as const) {
          const cat = s.model?.categories.find((c) => c.name === CATEGORY[kind]);
          if (!cat) continue;
          byKey.set(flake.uri.fsPath, flake);
          for (const leaf of cat.leaves) {
            // `homeConfigurations` Nix has no schema for: one leaf of the whole category until its names are listed.
            const name = leaf.attrPath[1];
            if (name === undefined) continue;
            out.push({ ...hostRef(fitText(flake.uri.fsPath, LIMITS.path), name, kind), flakeLabel: fitText(flake.label, LIMITS.name) });
          }
        }
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

  /** The configurations listed last, or a new listing when there is none yet (or it was empty). */
  async current(): Promise<HostEntry[]> {
    return this.listed && this.hosts.length ? this.hosts : this.list();
  }

  /** The flake of a configuration in the last listing; undefined for anything else the webview names. */
  find(ref: HostRef): Flake | undefined {
    return this.hosts.some((h) => sameHost(h, ref)) ? this.flakesByKey.get(ref.flake) : undefined;
  }

  /** The remembered choice, when it is among `hosts`. */
  selected(hosts: readonly HostEntry[]): HostRef | undefined {
    const s = this.ctx.extension.workspaceState.get<HostRef>(SELECTED_KEY);
    if (!s || typeof s.flake !== 'string' || typeof s.host !== 'string') return undefined;
    const ref = hostRef(s.flake, s.host, kindOf(s));
    return hosts.some((h) => sameHost(h, ref)) ? ref : undefined;
  }

  async remember(choice: HostRef): Promise<void> {
    await this.ctx.extension.workspaceState.update(SELECTED_KEY, hostRef(choice.flake, choice.host, kindOf(choice)));
  }
}
