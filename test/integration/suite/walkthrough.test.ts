// The walkthrough "Get started with Nix Flakes": contributed as the manifest says, and its steps complete on what the
// extension sets (a Nix found, a build that succeeded, a dry-build that finished). With Nix missing, Detect Nix Again
// finds one installed since, and the commands a user may still call say so once instead of failing.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Milestone } from '../../../src/features/walkthrough';
import { EXTENSION_ID, extension, flakeOf, until } from './helpers';

const GLOBAL = vscode.ConfigurationTarget.Global;

interface Step {
  id: string;
  completionEvents: string[];
  media: { markdown?: string };
}

function steps(): Step[] {
  const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
  const w = (ext.packageJSON.contributes.walkthroughs as { id: string; title: string; steps: Step[] }[]).find(
    (x) => x.id === 'nixFlakes.getStarted',
  );
  assert.ok(w, 'the walkthrough nixFlakes.getStarted is contributed');
  assert.equal(w.title, 'Get started with Nix Flakes');
  return w.steps;
}

function step(id: string): Step {
  const s = steps().find((x) => x.id === `nixFlakes.getStarted.${id}`);
  assert.ok(s, id);
  return s;
}

/** Resolves with the milestones reached while `action` runs. */
async function reachedDuring(action: () => Thenable<unknown>): Promise<Milestone[]> {
  const api = await extension();
  const seen: Milestone[] = [];
  const sub = api.walkthrough.onDidReach((m) => seen.push(m));
  try {
    await action();
    return seen;
  } finally {
    sub.dispose();
  }
}

describe('Walkthrough: Get started with Nix Flakes', () => {
  it('is contributed with its five steps, each with its text, completing on events', async () => {
    await extension();
    const ids = steps().map((s) => s.id);
    assert.deepEqual(
      ids,
      ['nix', 'flake', 'outputs', 'build', 'dryBuild'].map((s) => `nixFlakes.getStarted.${s}`),
    );
    assert.deepEqual(step('nix').completionEvents, ['onContext:nixFlakes.nixFound']);
    assert.deepEqual(step('build').completionEvents, ['onContext:nixFlakes.built']);
    assert.deepEqual(step('dryBuild').completionEvents, ['onContext:nixFlakes.dryBuilt']);
    assert.deepEqual(step('outputs').completionEvents, ['onView:nixFlakes.outputs', 'onContext:nixFlakes.outputsSeen']);
    assert.deepEqual(step('flake').completionEvents, ['onContext:nixFlakes.flakeFound']);
  });

  it('sets its keys once the walkthrough has been shown (VS Code may read walkthroughs only then)', async () => {
    const api = await extension();
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', `${EXTENSION_ID}#nixFlakes.getStarted`);
    const tabs = () =>
      vscode.window.tabGroups.all.flatMap((g) =>
        g.tabs.map((t) => `${t.label} (${t.input === undefined ? 'no input' : (t.input as object).constructor.name})`),
      );
    await until('the keys to be set', () => api.walkthrough.published(), 15_000).catch((e: Error) => {
      throw new Error(`${e.message}; tabs: ${tabs().join(', ')}`);
    });
  });

  it('the Nix step: a detected Nix completes it', async () => {
    const api = await extension();
    assert.equal(api.state(), 'ready');
    await until('nixFound', () => api.walkthrough.reached().has('nixFound'));
  });

  it('the flake step: a flake in the workspace completes it', async () => {
    const api = await extension();
    await until('flakeFound', () => api.walkthrough.reached().has('flakeFound'));
  });

  it('the outputs step: the Flake Outputs view shown completes it', async () => {
    const api = await extension();
    await vscode.commands.executeCommand('nixFlakes.outputs.focus');
    await until('outputsSeen', () => api.walkthrough.reached().has('outputsSeen'));
  });

  it('the build step: a failing build does not complete it, a build that succeeds does', async () => {
    const flake = await flakeOf('builds');
    const failing = await reachedDuring(() =>
      vscode.commands.executeCommand('nixFlakes.build', { flake, attrPath: ['packages', 'x86_64-linux', 'fails'], display: '.#fails' }),
    );
    assert.ok(!failing.includes('built'), failing.join(','));
    const ok = await reachedDuring(() =>
      vscode.commands.executeCommand('nixFlakes.build', { flake, attrPath: ['packages', 'x86_64-linux', 'ok'], display: '.#ok' }),
    );
    assert.ok(ok.includes('built'), ok.join(','));
    assert.ok((await extension()).walkthrough.reached().has('built'));
  });

  it('the dry-build step: a dry-build that finishes completes it', async () => {
    const api = await extension();
    const flake = await flakeOf('hosts');
    let status = '';
    const seen = await reachedDuring(async () => {
      status = (await api.dryBuilds.dryBuild(flake, 'good')).result.status;
    });
    assert.equal(status, 'done');
    assert.ok(seen.includes('dryBuilt'), seen.join(','));
    assert.ok(api.walkthrough.reached().has('dryBuilt'));
  });
});

describe('Walkthrough: Nix missing', () => {
  it('Detect Nix Again finds a Nix installed after it was looked for, and the commands say once that Nix is missing', async () => {
    const api = await extension();
    const conf = () => vscode.workspace.getConfiguration('nixFlakes');
    const previous = conf().inspect<string>('nixPath')?.globalValue;
    const real = (await api.nix()).ok ? ((await api.nix()) as { nix: { path: string } }).nix.path : undefined;
    assert.ok(real, 'a real nix to install later');
    const bin = mkdtempSync(join(tmpdir(), 'nix-later-'));
    const later = join(bin, 'nix');
    try {
      await conf().update('nixPath', later, GLOBAL);
      await until('the nixMissing state', () => api.state() === 'nixMissing');
      await until('nixFound to be false', () => !api.walkthrough.reached().has('nixFound'));

      // Nothing fails noisily: each command resolves (a rejected command is an error notification of its own) and
      // none waits for a pick of outputs that cannot be listed.
      const started = api.startedProcesses();
      for (const command of ['nixFlakes.build', 'nixFlakes.run', 'nixFlakes.develop', 'nixFlakes.copyInstallable']) {
        const r = await Promise.race([
          Promise.resolve(vscode.commands.executeCommand(command)).then(
            (v) => ({ ok: true, v }),
            (e: unknown) => ({ ok: false, v: String(e) }),
          ),
          new Promise<{ ok: false; v: string }>((res) => setTimeout(() => res({ ok: false, v: 'still waiting after 15 s' }), 15_000)),
        ]);
        assert.deepEqual(r, { ok: true, v: undefined }, command);
      }
      assert.equal(api.startedProcesses(), started, 'no process started');
      const message = await vscode.commands.executeCommand<string>('nixFlakes.showNixVersion');
      assert.match(message, /does not exist or is not executable/);

      // Installed since: Detect Nix Again (Show Nix Version) looks again, and the state and the step follow.
      symlinkSync(real, later);
      const found = await vscode.commands.executeCommand<string>('nixFlakes.showNixVersion');
      assert.match(found, /^(Nix|Lix|Determinate Nix) \d+\.\d+/);
      await until('the ready state', () => api.state() === 'ready');
      await until('nixFound', () => api.walkthrough.reached().has('nixFound'));
    } finally {
      await conf().update('nixPath', previous, GLOBAL);
      rmSync(bin, { recursive: true, force: true });
    }
    await until('the ready state again', () => api.state() === 'ready');
  });
});
