import * as assert from 'node:assert/strict';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  return vscode.commands.executeCommand<vscode.CodeAction[]>(
    'vscode.executeCodeActionProvider',
    vscode.Uri.file(path),
    range,
    vscode.CodeActionKind.QuickFix.value,
  );
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
    assert.ok(
      o.result.plan.builds.some((p) => /-nixos-system-good\.drv$/.test(p)),
      o.result.plan.builds.join('\n'),
    );
    // The run's marker is in this host's /etc: its etc and system are new in every run, whatever another test built.
    assert.ok(
      o.result.plan.builds.some((p) => /-etc\.drv$/.test(p)),
      o.result.plan.builds.join('\n'),
    );
    assert.match(
      o.result.command,
      /build --no-write-lock-file --dry-run --log-format internal-json -v --show-trace .*nixosConfigurations\."good"\.config\.system\.build\.toplevel/,
    );
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
    writeFileSync(
      file,
      original.replace(/\}\s*(#[^\n]*\n)?\s*$/, `  environment.etc."build-id".text = "${process.pid}-${Date.now()}-${noise}";\n}\n`),
    );
    const inst = `${hosts}#nixosConfigurations.goodToo.config.system.build.toplevel`;
    const out = JSON.parse(
      execFileSync(testNix(), ['build', '--no-link', '--json', inst], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    )[0].outputs.out as string;
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
    assert.equal(
      na.find((a) => a.title === 'Change to `services.openssh.enable`')?.edit?.get(vscode.Uri.file(nested))[0].newText,
      'enable',
    );

    // Under a name with a dot: `users.users."alice.smith".uidd` has four parts, not five.
    await dry('quotedUser');
    const quoted = join(fixture('hosts'), 'hosts', 'quoted-user.nix');
    const q = diagnosticsOf(quoted);
    assert.equal(q.length, 1);
    assert.equal(q[0].range.start.line, lineOf(quoted, 'uidd = 1000'));
    const qa = await actionsAt(quoted, q[0].range);
    const qfix = qa.find((a) => a.title === 'Change to `users.users."alice.smith".uid`');
    assert.ok(qfix?.edit, qa.map((a) => a.title).join(', '));
    assert.equal(qfix.edit.get(vscode.Uri.file(quoted))[0].newText, 'uid');
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

  it("failing again with nothing changed asks Nix about the flake's sources only once (nix flake metadata, archive)", async () => {
    const api = await extension();
    await settled(await flakeOf('hosts'));
    const asked = (since: number) =>
      api
        .recentRuns()
        .filter((r) => r.startedAt >= since && /\bflake (metadata|archive)\b/.test(r.command) && r.command.includes(fixture('hosts')));
    const first = Date.now();
    assert.equal((await dry('wrongType')).result.status, 'failed');
    const second = Date.now();
    assert.equal((await dry('wrongType')).result.status, 'failed');
    const third = Date.now();
    assert.equal((await dry('missingAttr')).result.status, 'failed');
    // (an earlier failure of this flake in the same state may have asked already)
    assert.ok(
      asked(first).length <= 2,
      asked(first)
        .map((r) => r.command)
        .join('\n'),
    );
    assert.deepEqual(
      asked(second).map((r) => r.command),
      [],
      'the second failure of the same host, and another host of the same flake, used the answers',
    );
    assert.ok(third > second);
    assert.equal(diagnosticsOf(join(fixture('hosts'), 'hosts', 'missing-attr.nix')).length, 1, 'its error still placed');
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
      assert.ok(
        fix?.command,
        `actions: ${actions.map((a) => a.title).join(', ')}; diagnostics: ${JSON.stringify(diagnosticsOf(extra).map((x) => [x.code, x.message, x.range.start.line]))}`,
      );
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
      assert.match(
        readFileSync(calls, 'utf8'),
        new RegExp(`^dry-build --flake ${fixture('hosts')}#good --no-write-lock-file --show-trace$`, 'm'),
      );
      assert.ok(
        o.result.plan.builds.some((p) => /-nixos-system-good\.drv$/.test(p)),
        `the system's derivation in the plan: ${o.result.plan.builds.join(' ')}`,
      );
    } finally {
      process.env.PATH = path;
      await conf.update('dryBuild.command', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});

/**
 * A nix that stands in for the real one (it runs it), and on request: never answers the lookups a failed run makes to
 * place its errors (`flake archive --dry-run`, the host position), or floods stderr before a dry-build (warnings
 * beyond what a run keeps, and more output than the process layer keeps).
 */
describe('NixOS dry-build: every lookup is bounded, every cap is said', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nix-flakes-slow-'));
  const wrapper = join(dir, 'nix');
  const hang = join(dir, 'hang');
  const flood = join(dir, 'flood');
  const hung = join(dir, 'hung');
  const conf = () => vscode.workspace.getConfiguration('nixFlakes');
  let previous: string | undefined;
  let timeoutBefore = 0;

  before(async () => {
    writeFileSync(
      wrapper,
      `#!/bin/sh
case " $* " in
  *" flake archive "*"--dry-run"*|*"#nixosConfigurations --apply c: builtins.unsafeGetAttrPos "*)
    if [ -e '${hang}' ]; then echo $$ >> '${hung}'; exec sleep 90; fi ;;
  *" build "*"--dry-run"*)
    if [ -e '${flood}' ]; then
      i=0
      while [ $i -lt 2500 ]; do echo "@nix {\\"action\\":\\"msg\\",\\"level\\":1,\\"msg\\":\\"warning: flood $i\\"}" >&2; i=$((i+1)); done
      head -c 5000000 /dev/zero | tr '\\0' 'x' | fold -w 99 >&2
    fi ;;
esac
exec '${testNix()}' "$@"
`,
    );
    chmodSync(wrapper, 0o755);
    const api = await extension();
    timeoutBefore = api.dryBuilds.lookupTimeoutMs;
    previous = conf().inspect<string>('nixPath')?.globalValue;
    await conf().update('nixPath', wrapper, vscode.ConfigurationTarget.Global);
    await until('the stand-in nix to be used', async () => {
      const n = await api.nix();
      return n.ok && n.nix.path === wrapper;
    });
    await settled(await flakeOf('hosts'));
  });

  afterEach(async () => {
    rmSync(hang, { force: true });
    rmSync(flood, { force: true });
    (await extension()).dryBuilds.lookupTimeoutMs = timeoutBefore;
  });

  after(async () => {
    await conf().update('nixPath', previous, vscode.ConfigurationTarget.Global);
    await settled(await flakeOf('hosts'));
    rmSync(dir, { recursive: true, force: true });
  });

  /** The lookup processes that were made to hang, once each has been started; each must be gone afterwards. */
  const hungPids = () => (existsSync(hung) ? readFileSync(hung, 'utf8').split('\n').filter(Boolean).map(Number) : []);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('a lookup that never answers: the card finishes at the bound with the errors (paths as Nix printed them), the lookup is ended', async () => {
    const api = await extension();
    api.dryBuilds.lookupTimeoutMs = 3000;
    rmSync(hung, { force: true });
    writeFileSync(hang, '');
    api.forgetFlakeAnswers();
    const t0 = Date.now();
    const o = await dry('missingAttr');
    const took = Date.now() - t0;
    assert.equal(o.result.status, 'failed');
    assert.ok(hungPids().length >= 1, 'the lookup was started and made to hang');
    assert.equal(o.card.omitted?.locations, 'timeout', JSON.stringify(o.card.omitted));
    assert.equal(o.card.omitted?.lookupMs, 3000);
    assert.match(o.card.errors.map((e) => e.message).join('\n'), /attribute 'toUpperCasee' missing/);
    assert.ok(took < 60_000, `${took} ms`);
    // Placed in the workspace all the same: by the path relative to the git root.
    const file = join(fixture('hosts'), 'hosts', 'missing-attr.nix');
    assert.equal(diagnosticsOf(file).length, 1);
    for (const pid of hungPids()) await until(`the hung lookup ${pid} to be ended`, () => !alive(pid), 10_000);
  });

  it('a new run of the host cancels the lookups of the one before; closing the panel cancels them too', async () => {
    const api = await extension();
    api.dryBuilds.lookupTimeoutMs = 100_000;
    for (const close of [false, true]) {
      rmSync(hung, { force: true });
      writeFileSync(hang, '');
      api.forgetFlakeAnswers(); // else the lookup the last run finished is not made again
      if (close) await api.dryBuilds.show();
      const t0 = Date.now();
      const first = dry('missingAttr');
      await until('the lookup to hang', () => hungPids().length > 0, 60_000);
      rmSync(hang, { force: true });
      let second: ReturnType<typeof dry> | undefined;
      if (close) await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      else second = dry('missingAttr');
      const o = await first;
      assert.ok(Date.now() - t0 < 60_000, `${Date.now() - t0} ms`);
      assert.equal(o.card.omitted?.locations, 'cancelled', `${close ? 'panel closed' : 'new run'}: ${JSON.stringify(o.card.omitted)}`);
      assert.ok(o.card.errors.length >= 1);
      for (const pid of hungPids()) await until(`the hung lookup ${pid} to be ended`, () => !alive(pid), 10_000);
      if (second) {
        const again = await second;
        assert.equal(again.result.status, 'failed');
        assert.equal(again.card.omitted?.locations, undefined, JSON.stringify(again.card.omitted));
      }
    }
  });

  it('a run that prints more than is kept says so on its card: messages, stderr lines, log lines', async () => {
    writeFileSync(flood, '');
    const o = await dry('missingAttr');
    assert.equal(o.result.status, 'failed');
    const omitted = o.card.omitted ?? {};
    assert.ok((omitted.messages ?? 0) >= 500, JSON.stringify(omitted));
    assert.equal(omitted.errorMessages, undefined, 'the errors were all kept');
    assert.ok((omitted.stderrLines ?? 0) > 0, JSON.stringify(omitted));
    assert.ok((omitted.logLines ?? 0) > 40_000, JSON.stringify(omitted));
    // The error is still found, first among them.
    assert.match(o.card.errors[0]?.message ?? '', /attribute 'toUpperCasee' missing/);
  });
});
