import * as assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extension, fixture, flakeOf, lineOf, nixDiagnostics, settled, until } from './helpers';
import { testNix } from '../../support/nix';

const nixConfig = process.env.NIX_CONFIG ?? '';

/** The file's nix diagnostics, possibly none. */
function diagnosticsOf(path: string): vscode.Diagnostic[] {
  return nixDiagnostics(path) ?? [];
}

async function actionsAt(path: string, range: vscode.Range): Promise<vscode.CodeAction[]> {
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(vscode.Uri.file(path)));
  return vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', vscode.Uri.file(path), range, vscode.CodeActionKind.QuickFix.value);
}

async function dry(host: string) {
  const api = await extension();
  const flake = await flakeOf('hosts');
  return api.dryBuilds.dryBuild(flake, host);
}

describe('NixOS dry-build', () => {
  it('a good host evaluates and lists what would be built', async () => {
    const o = await dry('good');
    assert.equal(o.result.status, 'done', JSON.stringify(o.result.errors));
    assert.ok(o.result.plan.builds.some((p) => /-nixos-system-good\.drv$/.test(p)), o.result.plan.builds.join('\n'));
    assert.ok(o.result.plan.builds.length >= 3);
    assert.match(o.result.command, /build --no-write-lock-file --dry-run --log-format internal-json -v --show-trace .*nixosConfigurations\."good"\.config\.system\.build\.toplevel/);
  });

  it('a host whose closure is in a binary cache lists what would be fetched, with sizes', async () => {
    const hosts = fixture('hosts');
    const env = { ...process.env, NIX_CONFIG: nixConfig };
    // A unique setting makes this host's toplevel and /etc new store paths; build them, put them in a local binary
    // cache and remove them from the store: the dry-build then fetches them (and finds the rest already there).
    const file = join(hosts, 'hosts', 'good-too.nix');
    const original = readFileSync(file, 'utf8');
    // Incompressible text, so that even Nix ≤ 2.32's "0.00 MiB" rounding shows a download size.
    const noise = randomBytes(40 * 1024).toString('hex');
    writeFileSync(file, original.replace(/\}\s*(#[^\n]*\n)?\s*$/, `  environment.etc."build-id".text = "${process.pid}-${Date.now()}-${noise}";\n}\n`));
    const inst = `${hosts}#nixosConfigurations.goodToo.config.system.build.toplevel`;
    const out = JSON.parse(execFileSync(testNix(), ['build', '--no-link', '--json', inst], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))[0].outputs.out as string;
    const closure = execFileSync(testNix(), ['path-info', '--recursive', out], { env, encoding: 'utf8' }).trim().split('\n');
    const unique = [out, ...closure.filter((p) => p !== out && /-etc$/.test(p))];
    const cache = mkdtempSync(join(tmpdir(), 'nix-flakes-cache-'));
    execFileSync(testNix(), ['copy', '--to', `file://${cache}`, out], { env, stdio: 'pipe' });
    execFileSync(testNix(), ['store', 'delete', ...unique], { env, stdio: 'pipe' });
    process.env.NIX_CONFIG = `${nixConfig}\nsubstituters = file://${cache}\nrequire-sigs = false`;
    try {
      const o = await dry('goodToo');
      assert.equal(o.result.status, 'done', JSON.stringify(o.result.errors));
      for (const p of unique) assert.ok(o.result.plan.fetches.includes(p), `${p} in ${o.result.plan.fetches.join('\n')}`);
      assert.ok((o.result.plan.downloadBytes ?? 0) > 0, `download size: ${o.result.plan.downloadBytes}`);
    } finally {
      process.env.NIX_CONFIG = nixConfig;
      writeFileSync(file, original);
    }
  });

  it('an attribute error lands at its file, line and column', async () => {
    const o = await dry('missingAttr');
    assert.equal(o.result.status, 'failed');
    const file = join(fixture('hosts'), 'hosts', 'missing-attr.nix');
    const d = diagnosticsOf(file);
    assert.equal(d.length, 1, JSON.stringify(o.result.errors.map((e) => e.message)));
    assert.deepEqual([d[0].range.start.line, d[0].range.start.character], [2, 24]);
    assert.match(d[0].message, /attribute 'toUpperCasee' missing/);
  });

  it('an unknown option lands on the line that defines it, nested or not, with the suggestion as a quick fix', async () => {
    await dry('unknownOption');
    const flat = join(fixture('hosts'), 'hosts', 'unknown-option.nix');
    const d = diagnosticsOf(flat);
    assert.equal(d.length, 1);
    assert.equal(d[0].range.start.line, lineOf(flat, 'services.openssh.enabel'));
    assert.equal(d[0].code, 'unknown-option');
    const actions = await actionsAt(flat, d[0].range);
    const fix = actions.find((a) => a.title === 'Change to `services.openssh.enable`');
    assert.ok(fix?.edit, actions.map((a) => a.title).join(', '));
    assert.equal(fix.edit.get(vscode.Uri.file(flat))[0].newText, 'services.openssh.enable');

    await dry('nestedUnknownOption');
    const nested = join(fixture('hosts'), 'hosts', 'nested-unknown-option.nix');
    const n = diagnosticsOf(nested);
    assert.equal(n.length, 1);
    assert.equal(n[0].range.start.line, lineOf(nested, 'enabel = true'));
    const na = await actionsAt(nested, n[0].range);
    assert.equal(na.find((a) => a.title === 'Change to `services.openssh.enable`')?.edit?.get(vscode.Uri.file(nested))[0].newText, 'enable');
  });

  it('a type mismatch lands on the defining line; conflicting definitions on every site, with mkForce/mkDefault fixes', async () => {
    await dry('wrongType');
    const wrong = join(fixture('hosts'), 'hosts', 'wrong-type.nix');
    const d = diagnosticsOf(wrong);
    assert.equal(d[0]?.range.start.line, lineOf(wrong, 'users.users.alice.uid'));
    await dry('conflict');
    const conflict = join(fixture('hosts'), 'hosts', 'conflict.nix');
    const c = diagnosticsOf(conflict);
    assert.deepEqual(c.map((x) => x.range.start.line).sort(), [lineOf(conflict, 'imports'), lineOf(conflict, '"c2"')].sort());
    const site = c.find((x) => x.range.start.line === lineOf(conflict, '"c2"'))!;
    const actions = await actionsAt(conflict, site.range);
    const force = actions.find((a) => a.title.startsWith('Use lib.mkForce'));
    assert.equal(force?.edit?.get(vscode.Uri.file(conflict))[0].newText, 'lib.mkForce "c2"');
    const byDefault = actions.find((a) => a.title.startsWith('Use lib.mkDefault'));
    assert.equal(byDefault?.edit?.get(vscode.Uri.file(conflict))[0].newText, 'lib.mkDefault "c2"', actions.map((a) => a.title).join(', '));
  });

  it('infinite recursion inside nixpkgs is shown at the host line that causes it, with a hint', async () => {
    const o = await dry('recursion');
    const file = join(fixture('hosts'), 'hosts', 'recursion.nix');
    const d = diagnosticsOf(file);
    assert.equal(d.length, 1, JSON.stringify(o.diagnostics.map((p) => p.uri.fsPath)));
    assert.equal(d[0].range.start.line, lineOf(file, 'imports = lib.optional config'));
    assert.match(d[0].message, /infinite recursion/);
    assert.match(d[0].message, /lib\.mkIf/);
  });

  it('diagnostics are replaced by the next run of the same host and removed when the flake changes', async () => {
    const file = join(fixture('hosts'), 'hosts', 'unknown-option.nix');
    await dry('unknownOption');
    await dry('unknownOption');
    assert.equal(diagnosticsOf(file).length, 1, 'no pile-up');
    const good = join(fixture('hosts'), 'hosts', 'good.nix');
    const text = readFileSync(good, 'utf8');
    try {
      appendFileSync(good, '\n');
      await until('stale diagnostics to be removed', () => diagnosticsOf(file).length === 0, 10_000);
    } finally {
      writeFileSync(good, text);
    }
    // The restore is a change too: let its refresh happen now, not during the next test.
    await settled(await flakeOf('hosts'));
  });

  it('an untracked file is reported on the file, and its quick fix (git add -N) makes the next run pass', async () => {
    const hosts = fixture('hosts');
    const extra = join(hosts, 'hosts', 'extra.nix');
    writeFileSync(extra, '{ services.nginx.enable = true; }\n');
    try {
      const o = await dry('withExtra');
      assert.equal(o.result.status, 'failed');
      assert.equal(o.result.errors[0]?.kind, 'untracked-file', JSON.stringify(o.result.errors.map((e) => e.message)));
      const d = await until('the diagnostic on extra.nix', () => diagnosticsOf(extra)[0]);
      const actions = await actionsAt(extra, d.range);
      const fix = actions.find((a) => a.title.includes('git add -N'));
      assert.ok(fix?.command, `actions: ${actions.map((a) => a.title).join(', ')}; diagnostics: ${JSON.stringify(diagnosticsOf(extra).map((x) => [x.code, x.message, x.range.start.line]))}`);
      assert.equal(await vscode.commands.executeCommand(fix.command.command, ...(fix.command.arguments ?? [])), true);
      const again = await dry('withExtra');
      assert.equal(again.result.status, 'done', JSON.stringify(again.result.errors.map((e) => e.message)));
    } finally {
      execFileSync('git', ['rm', '-q', '--cached', '--force', '--ignore-unmatch', 'hosts/extra.nix'], { cwd: hosts });
      rmSync(extra, { force: true });
    }
  });

  it('a host with an attribute name that is hostile HTML dry-builds like any other', async () => {
    const o = await dry('<img src=x onerror=alert(1)>');
    assert.equal(o.result.status, 'done', JSON.stringify(o.result.errors.map((e) => e.message)));
  });

  it('runs the real nixos-rebuild dry-build when asked (a stand-in on PATH)', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'nixos-rebuild-'));
    const calls = join(bin, 'calls');
    writeFileSync(
      join(bin, 'nixos-rebuild'),
      `#!/bin/sh
printf '%s\\n' "$*" >> '${calls}'
[ "$1" = dry-build ] || exit 2
flake=\${3%%#*}; host=\${3#*#}
echo "building the system configuration..." >&2
exec '${testNix()}' --extra-experimental-features 'nix-command flakes' build --dry-run "$flake#nixosConfigurations.\\"$host\\".config.system.build.toplevel"
`,
    );
    chmodSync(join(bin, 'nixos-rebuild'), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    const conf = vscode.workspace.getConfiguration('nixFlakes');
    await conf.update('dryBuild.command', 'nixos-rebuild', vscode.ConfigurationTarget.Global);
    try {
      const o = await dry('good');
      assert.equal(o.result.status, 'done', JSON.stringify(o.result.errors));
      // As every nix command of the extension: the lock file is never written by a run the user did not start.
      assert.match(readFileSync(calls, 'utf8'), new RegExp(`^dry-build --flake ${fixture('hosts')}#good --no-write-lock-file --show-trace$`, 'm'));
      assert.ok(o.result.plan.builds.some((p) => /-nixos-system-good\.drv$/.test(p)), `the system's derivation in the plan: ${o.result.plan.builds.join(' ')}`);
    } finally {
      process.env.PATH = path;
      await conf.update('dryBuild.command', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
