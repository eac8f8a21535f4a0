// The NixOS module system of the offline nixpkgs stand-in (examples/nixpkgs-stub) against the real nixpkgs one:
// the hosts of test/fixtures/flakes/hosts, evaluated with the real nix, must fail with the same messages (and,
// where Nix gives them, the same positions) as nixpkgs' lib.evalModules did on Nix 2.8
// (test/fixtures/captured/errors/nix-2.8-module-*, from shared/reference/captured/module-errors-nix-2.8.txt),
// and the project's error parser must read the same things out of both. The messages are nixpkgs' own and the same
// on every Nix; the layout around them is the running version's (2.13+ print the traces first, 2.20+ without blank
// lines around `at`), so only 2.8 is compared with the capture as a whole.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseNixErrors } from '../../src/core/errors/fromLog';
import type { NixError } from '../../src/core/errors/types';
import { parseDryRun } from '../../src/core/log/dryRun';
import { positionFromJson } from '../../src/core/log/position';
import { stripAnsi } from '../../src/core/text';
import { runTestNix, type NixRun, copyFixture, makeRepo, repoRoot, scratchDir } from '../support/nix';
import { byVersion, nixAtLeast } from '../support/nixVersion';

const nix = (args: readonly string[], cwd?: string): NixRun => runTestNix(args, cwd);

/** `nixosConfigurations."<host>"`, usable in an installable: characters a URL fragment cannot hold are %-escaped. */
function hostAttr(host: string): string {
  return `nixosConfigurations."${host.replace(/[^A-Za-z0-9._~!$&'()*+,;=:@/?-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)}"`;
}

const toplevel = (dir: string, host: string) => `${dir}#${hostAttr(host)}.config.system.build.toplevel`;

/** `nix eval --raw` of the toplevel's drvPath, as the extension's evaluation does. */
function evalHost(dir: string, host: string, ...extra: string[]): NixRun {
  return nix(['eval', '--raw', '--no-write-lock-file', ...extra, `${toplevel(dir, host)}.drvPath`]);
}

const STORE_SOURCE = /\/nix\/store\/[0-9a-df-np-sv-z]{32}-source/g;
/** How 2.34 names a file of a locked `git+file:` input: `«git+file:///…?ref=…&rev=…&shallow=1»/lib/modules.nix`. */
const SOURCE_TREE = /«git\+file:\/\/[^»]*»/g;
/** The folders of the fixture copies, which 2.34 prints for the files of the flake being evaluated. */
const localTrees: string[] = [];
/**
 * Source trees are named differently from the capture's: store paths of other hashes, and on newer Nix the flake's
 * own folder and `«git+file:…»` for its inputs. Each becomes `/nix/store/…-source`, as in the 2.8 capture.
 */
const norm = (s: string) => {
  let out = s.replace(STORE_SOURCE, '/nix/store/…-source').replace(SOURCE_TREE, '/nix/store/…-source');
  for (const dir of localTrees) out = out.split(dir).join('/nix/store/…-source');
  return out;
};

/** Nix 2.13+ print the traces before the error (nix-cli.md §7.2). */
const tracesFirst = () => nixAtLeast(2, 13);

/**
 * The last error of an error text (from its last `error:` line), de-indented, without blank lines and without 2.8's
 * `--show-trace` hint: the message and its position and code frame, the same in every version's layout.
 */
function finalError(text: string): string {
  const lines = text.split('\n');
  let last = 0;
  lines.forEach((l, i) => {
    if (/^ {0,7}error:/.test(l)) last = i;
  });
  return lines
    .slice(last)
    .map((l) => l.replace(/^ {0,7}/, ''))
    .filter((l) => l.trim() !== '' && !/^\(use '--show-trace'/.test(l))
    .join('\n');
}

const captured = (name: string) => readFileSync(resolve(repoRoot(), 'test/fixtures/captured/errors', name), 'utf8');

/** The error block of a text stderr: from `error:` on, ANSI-stripped, normalised (drops the dirty-tree warning). */
function errorText(stderr: string): string {
  const text = norm(stripAnsi(stderr));
  const at = text.indexOf('error:');
  assert.ok(at >= 0, `no error in:\n${text}`);
  return text.slice(at).trimEnd();
}

interface JsonMsg {
  action: string;
  level: number;
  msg: string;
  raw_msg?: string;
  file?: string | null;
  line?: number | null;
  column?: number | null;
  trace?: { raw_msg: string; file?: string; line?: number; column?: number }[];
}

/** The error record of an internal-json stderr. */
function errorRecord(stderr: string): JsonMsg {
  const records = stderr
    .split('\n')
    .filter((l) => l.startsWith('@nix '))
    .map((l) => JSON.parse(l.slice(5)) as JsonMsg)
    .filter((r) => r.action === 'msg' && r.level === 0 && r.raw_msg !== undefined);
  assert.equal(records.length, 1, `one error record in:\n${stderr}`);
  return records[0];
}

/** What the parser makes of an error, with store paths normalised. */
function parsed(stderr: string): NixError {
  const errors = parseNixErrors(norm(stderr));
  assert.equal(errors.length, 1, `one error in:\n${stderr}`);
  return errors[0];
}

/** The fields that do not depend on the text layout or on the module system's own source (positions, trace). */
function essence(e: NixError): object {
  const { raw: _raw, trace: _trace, position, ...rest } = e;
  return { ...rest, file: position?.file, line: position?.line, column: position?.column };
}

/** The captured real cases: fixture host (also the capture name), its file under hosts/, the kind the parser gives. */
const CASES = [
  { host: 'unknownOption', file: 'unknown-option.nix', kind: 'option-does-not-exist' },
  { host: 'wrongType', file: 'wrong-type.nix', kind: 'option-type-mismatch' },
  { host: 'conflict', file: 'conflict.nix', kind: 'conflicting-definitions' },
  { host: 'recursion', file: 'recursion.nix', kind: 'infinite-recursion' },
  { host: 'missingAttr', file: 'missing-attr.nix', kind: 'attribute-missing' },
  { host: 'throwing', file: 'throwing.nix', kind: 'throw' },
  { host: 'undefinedOption', file: 'undefined.nix', kind: 'option-used-but-not-defined' },
  { host: 'badEnum', file: 'bad-enum.nix', kind: 'option-type-mismatch' },
] as const;

const GOOD = [
  { host: 'good', hostName: 'good' },
  { host: 'goodToo', hostName: 'good-too' },
  { host: 'my.host', hostName: 'my-host' },
  { host: '<img src=x onerror=alert(1)>', hostName: 'hostile' },
];

let copies: Map<string, string>;
let hostsDir: string;
let stubDir: string;

before(() => {
  copies = new Map();
  hostsDir = copyFixture('hosts', copies);
  stubDir = copies.get('nixpkgs-stub')!;
  assert.ok(stubDir, 'the hosts fixture uses the nixpkgs stand-in');
  localTrees.push(hostsDir, stubDir);
});

describe('the fixture hosts', () => {
  test('every host the tests expect is there, including a dotted and an HTML name', () => {
    const r = nix(['eval', '--json', '--no-write-lock-file', `${hostsDir}#nixosConfigurations`, '--apply', 'builtins.attrNames']);
    assert.equal(r.status, 0, r.stderr);
    const names = JSON.parse(r.stdout) as string[];
    for (const h of [...GOOD.map((g) => g.host), ...CASES.map((c) => c.host), 'nestedUnknownOption', 'splitModule']) {
      assert.ok(names.includes(h), `host ${h}`);
    }
  });

  test('the error hosts are the captured sources, unchanged', () => {
    // The capture's host files, in its order (hosts/*.nix sorted by name).
    const expected: Record<string, string> = {
      'bad-enum.nix': '{\n  networking.hostName = "f";\n  services.k3s.role = "banana";\n}\n',
      'conflict.nix': '{ lib, ... }:\n{\n  imports = [ { networking.hostName = "c1"; } ];\n  networking.hostName = "c2";\n}\n',
      'missing-attr.nix': '{ lib, ... }:\n{\n  networking.hostName = lib.strings.toUpperCasee "e";\n}\n',
      'recursion.nix':
        '{ config, lib, ... }:\n{\n  imports = lib.optional config.services.openssh.enable ./unknown-option.nix;\n  networking.hostName = "d";\n}\n',
      'throwing.nix': '{\n  networking.hostName = throw "hostName must come from the inventory <script>alert(1)</script>";\n}\n',
      'undefined.nix': '{\n  services.openssh.enable = true;\n}\n',
      'unknown-option.nix': '{\n  networking.hostName = "a";\n  services.openssh.enabel = true;\n}\n',
      'wrong-type.nix': '{\n  networking.hostName = "b";\n  users.users.alice.uid = "1000";\n}\n',
    };
    for (const [file, text] of Object.entries(expected)) {
      assert.equal(readFileSync(join(hostsDir, 'hosts', file), 'utf8'), text, file);
    }
  });
});

/**
 * The derivations a derivation depends on, itself included, by name (`<hash>-etc.drv`): `nix show-derivation` until
 * `nix derivation show` (2.15) replaced it, and 2.33+ list them under `derivations`, without the store directory.
 */
function derivationGraph(drvPath: string): string[] {
  const graph = nix([...byVersion({ '2.8': ['show-derivation'], '2.15': ['derivation', 'show'] }), '--recursive', drvPath]);
  assert.equal(graph.status, 0, graph.stderr);
  const value = JSON.parse(graph.stdout) as Record<string, unknown>;
  const drvs = byVersion({ '2.8': () => value, '2.33': () => value.derivations as Record<string, unknown> })();
  return Object.keys(drvs).map((d) => d.replace(/^.*\//, ''));
}

describe('good hosts', () => {
  for (const { host, hostName } of GOOD) {
    test(`${JSON.stringify(host)} evaluates to nixos-system-${hostName} and dry-builds several derivations`, () => {
      const ev = evalHost(hostsDir, host);
      assert.equal(ev.status, 0, ev.stderr);
      assert.match(ev.stdout, new RegExp(`^/nix/store/[0-9a-z]{32}-nixos-system-${hostName.replace('.', '\\.')}\\.drv$`));

      const dry = nix(['build', '--dry-run', '--no-link', '--no-write-lock-file', toplevel(hostsDir, host)]);
      assert.equal(dry.status, 0, dry.stderr);
      const plan = parseDryRun(dry.stderr);
      assert.ok(plan, dry.stderr);
      assert.ok(
        plan.builds.some((d) => d.endsWith(`-nixos-system-${hostName}.drv`)),
        `the toplevel is to be built:\n${dry.stderr}`,
      );
      // What else is listed depends on what earlier runs left in the store; the derivation graph does not.
      const drvs = derivationGraph(ev.stdout.trim());
      assert.ok(drvs.length >= 3, `the toplevel depends on at least two other derivations: ${drvs.join(' ')}`);
      assert.ok(plan.builds.includes(ev.stdout), 'the toplevel is among them');
      assert.ok(drvs.some((d) => d.endsWith('-etc.drv')) && drvs.some((d) => d.endsWith('-system-path.drv')), drvs.join(' '));
    });
  }

  test('the system derivation depends on the configuration', () => {
    const expr = `let
      c = (builtins.getFlake "git+file://${hostsDir}").nixosConfigurations.good;
      drv = m: (c.extendModules { modules = [ m ]; }).config.system.build.toplevel.drvPath;
    in [ c.config.system.build.toplevel.drvPath (drv { }) (drv { users.motd = "changed"; })
         (drv { services.openssh.ports = [ 2222 ]; }) (drv { services.k3s.role = "agent"; }) ]`;
    const r = nix(['eval', '--impure', '--json', '--expr', expr]);
    assert.equal(r.status, 0, r.stderr);
    const [base, same, motd, ports, role] = JSON.parse(r.stdout) as string[];
    assert.equal(same, base);
    assert.equal(new Set([base, motd, ports, role]).size, 4);
  });

  test('modules get lib, config, options, pkgs and specialArgs; mkIf, mkForce, mkDefault, imports and submodules work', () => {
    const r = nix([
      'eval',
      '--json',
      '--no-write-lock-file',
      `${hostsDir}#nixosConfigurations.goodToo.config`,
      '--apply',
      'c: { inherit (c.services) postgresql openssh k3s; inherit (c.users) users motd; etc = builtins.attrNames c.environment.etc; pkgs = map (p: p.name) c.environment.systemPackages; monitoring = c.monitoring; }',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      postgresql: { enable: true, port: 5433 },
      openssh: { enable: true, ports: [22, 2222] },
      k3s: { role: 'agent' },
      users: {
        alice: { isNormalUser: true, name: 'alice', uid: 1000 },
        root: { isNormalUser: false, name: 'root', uid: 0 },
      },
      motd: 'Welcome to good-too (lab)',
      etc: ['hostname', 'monitoring.conf', 'motd', 'passwd', 'postgresql/postgresql.conf', 'ssh/sshd_config'],
      // In nixpkgs' order: definitions of the last modules first (the module list is reversed before merging).
      pkgs: ['hello-2.12.1', 'htop-3.3.0', 'postgresql-16.3', 'openssh-9.8p1', 'bash-interactive-5.2', 'coreutils-9.5'],
      monitoring: { enable: true, interval: 60 },
    });
  });
});

describe('error hosts give the real nixpkgs errors', () => {
  for (const { host, file, kind } of CASES) {
    test(`${host} (hosts/${file}): ${kind}`, () => {
      const realText = captured(`nix-2.8-module-${host}.stderr.txt`);
      const realJson = captured(`nix-2.8-module-${host}.jsonl`);

      // Text: the message is the captured one; 2.8 prints the same block as a whole, newer Nix traces first.
      const text = evalHost(hostsDir, host);
      assert.equal(text.status, 1);
      const real = errorRecord(realJson);
      const ours = errorText(text.stderr);
      const indented = stripAnsi(norm(real.raw_msg!))
        .trimEnd()
        .split('\n')
        .map((l, i) => (i === 0 || l === '' ? l : `       ${l}`));
      if (tracesFirst()) {
        assert.match(ours, /^error:\n {7}… /, 'the traces first');
        assert.ok(ours.includes(`\n       error: ${indented.join('\n')}`), ours);
        if (host !== 'recursion')
          assert.equal(finalError(ours), finalError(errorText(realText)), 'the message, its position and code frame');
      } else {
        assert.ok(ours.startsWith(`error: ${indented.join('\n')}`), ours);
        if (host !== 'recursion') assert.equal(ours, errorText(realText), 'the whole error block, as printed');
      }

      // internal-json: the same raw_msg, and the position where the capture has one (2.20+ also in `file`).
      const json = evalHost(hostsDir, host, '--log-format', 'internal-json');
      assert.equal(json.status, 1);
      const rec = errorRecord(json.stderr);
      assert.equal(norm(rec.raw_msg!), norm(real.raw_msg!));
      const at = (r: JsonMsg) => {
        const p = positionFromJson(r.file, r.line, r.column);
        return p && [norm(p.file), p.line, p.column];
      };
      if (host === 'recursion') {
        // 2.8 points into lib/modules.nix; 2.26 and 2.34 (seen) give an infinite recursion no position.
        if (byVersion({ '2.8': true, '2.26': false })) assert.match(String(at(rec)?.[0]), /-source\/lib\/modules\.nix$/);
        else assert.equal(at(rec), undefined);
      } else {
        assert.deepEqual(at(rec), at(real));
        if (!tracesFirst()) assert.equal(norm(rec.msg), norm(real.msg), 'the formatted message, code frame included');
      }

      // The parser reads the same things out of ours as out of the real one, in both forms.
      const fromText = parsed(text.stderr);
      const fromJson = parsed(json.stderr);
      assert.equal(fromText.kind, kind);
      assert.deepEqual(essence(fromJson), essence(fromText));
      const realParsed = parsed(realJson);
      if (host === 'recursion') {
        assert.deepEqual([fromJson.kind, fromJson.message], [realParsed.kind, realParsed.message]);
      } else {
        assert.deepEqual(essence(fromJson), essence(realParsed));
      }
    });
  }

  test('the definition files, option paths and suggestions the parser reads', () => {
    const src = '/nix/store/…-source';
    const unknown = parsed(evalHost(hostsDir, 'unknownOption').stderr);
    assert.deepEqual(unknown.kind === 'option-does-not-exist' && [unknown.optionPath, unknown.definitions, unknown.suggestions], [
      'services.openssh.enabel',
      [{ file: `${src}/hosts/unknown-option.nix`, value: 'true' }],
      ['services.openssh.enable', 'services.openssh.ports'],
    ]);
    const wrong = parsed(evalHost(hostsDir, 'wrongType').stderr);
    assert.deepEqual(wrong.kind === 'option-type-mismatch' && [wrong.optionPath, wrong.expectedType, wrong.definitions], [
      'users.users.alice.uid',
      'signed integer',
      [{ file: `${src}/hosts/wrong-type.nix`, value: '"1000"' }],
    ]);
    const conflict = parsed(evalHost(hostsDir, 'conflict').stderr);
    assert.deepEqual(conflict.kind === 'conflicting-definitions' && [conflict.optionPath, conflict.definitions], [
      'networking.hostName',
      [
        { file: `${src}/hosts/conflict.nix`, value: '"c1"' },
        { file: `${src}/hosts/conflict.nix`, value: '"c2"' },
      ],
    ]);
    const undef = parsed(evalHost(hostsDir, 'undefinedOption').stderr);
    assert.deepEqual(undef.kind === 'option-used-but-not-defined' && undef.optionPath, 'networking.hostName');
    const missing = parsed(evalHost(hostsDir, 'missingAttr', '--log-format', 'internal-json').stderr);
    assert.deepEqual(missing.kind === 'attribute-missing' && [missing.attribute, missing.position], [
      'toUpperCasee',
      { file: `${src}/hosts/missing-attr.nix`, origin: 'path', line: 3, column: 25 },
    ]);
    const thrown = parsed(evalHost(hostsDir, 'throwing').stderr);
    assert.deepEqual([thrown.kind, thrown.message], ['throw', 'hostName must come from the inventory <script>alert(1)</script>']);
  });

  test('nested style (services = { openssh = { enabel = … }; }) gives the same unknown-option error', () => {
    const r = evalHost(hostsDir, 'nestedUnknownOption');
    assert.equal(r.status, 1);
    const message = [
      "error: The option `services.openssh.enabel' does not exist. Definition values:",
      "       - In `/nix/store/…-source/hosts/nested-unknown-option.nix': true",
      '',
      "       Did you mean `services.openssh.enable' or `services.openssh.ports'?",
    ].join('\n');
    if (tracesFirst()) assert.equal(finalError(errorText(r.stderr)), finalError(message));
    else assert.equal(errorText(r.stderr), message);
    const e = parsed(r.stderr);
    assert.deepEqual(e.kind === 'option-does-not-exist' && [e.optionPath, e.definitions.map((d) => d.file), e.suggestions], [
      'services.openssh.enabel',
      ['/nix/store/…-source/hosts/nested-unknown-option.nix'],
      ['services.openssh.enable', 'services.openssh.ports'],
    ]);
  });

  test('options/config split: a wrong type inside `config = { … }`', () => {
    const r = evalHost(hostsDir, 'splitModule');
    assert.equal(r.status, 1);
    const message = [
      "error: A definition for option `services.postgresql.port' is not of type `16 bit unsigned integer; between 0 and 65535 (both inclusive)'. Definition values:",
      '       - In `/nix/store/…-source/hosts/split-module.nix\': "5432"',
    ].join('\n');
    // 2.8 offers --show-trace in a line of its own; 2.13+ print a few frames first and say the trace was cut.
    if (tracesFirst()) assert.equal(finalError(errorText(r.stderr)), finalError(message));
    else assert.equal(errorText(r.stderr), `${message}\n(use '--show-trace' to show detailed location information)`);
    const e = parsed(r.stderr);
    assert.deepEqual(e.kind === 'option-type-mismatch' && [e.optionPath, e.expectedType, e.definitions], [
      'services.postgresql.port',
      '16 bit unsigned integer; between 0 and 65535 (both inclusive)',
      [{ file: '/nix/store/…-source/hosts/split-module.nix', value: '"5432"' }],
    ]);
  });

  test('`config` in `imports` really recurses: the trace reaches the host file and its `imports` line', () => {
    const r = evalHost(hostsDir, 'recursion', '--show-trace', '--log-format', 'internal-json');
    assert.equal(r.status, 1);
    const rec = errorRecord(r.stderr);
    assert.equal(rec.raw_msg, 'infinite recursion encountered');
    // The frames as the parser reads them (2.20+ put `:line:col` into `file`), innermost first.
    const frames = parsed(r.stderr).trace.map((t) => ({
      message: t.message,
      at: t.position && `${t.position.file}:${t.position.line}:${t.position.column}`,
    }));
    const host = '/nix/store/…-source/hosts/recursion.nix';
    assert.match(frames[0].message, /^if you get an infinite recursion here, you probably reference `config` in `imports`\./);
    assert.ok(frames.some((f) => f.message === `while evaluating the module argument \`config' in "${host}":`));
    assert.ok(frames.some((f) => f.message === 'from call site' && f.at === `${host}:3:13`));
    assert.ok(frames.some((f) => f.message === "while evaluating the attribute 'imports'" && f.at === `${host}:3:3`));

    // The parser sees the same frames in the text form.
    const text = parsed(evalHost(hostsDir, 'recursion', '--show-trace').stderr);
    assert.equal(text.kind, 'infinite-recursion');
    assert.ok(
      text.trace.some(
        (t) => t.message === 'from call site' && t.position?.file === host && t.position.line === 3 && t.position.column === 13,
      ),
    );
  });

  test('with --show-trace, the wrong type is reported while evaluating that option', () => {
    const r = evalHost(hostsDir, 'wrongType', '--show-trace', '--log-format', 'internal-json');
    const rec = errorRecord(r.stderr);
    const real = errorRecord(captured('nix-2.8-module-wrongType-trace.jsonl'));
    assert.equal(norm(rec.raw_msg!), norm(real.raw_msg!));
    const frames = (rec.trace ?? []).map((t) => stripAnsi(t.raw_msg));
    // 2.26 and 2.34 (seen) also name the builtin that raised it, innermost.
    const inner = byVersion({ '2.8': [], '2.26': ["while calling the 'throw' builtin"] });
    assert.deepEqual(frames.slice(0, inner.length + 2), [
      ...inner,
      "while evaluating the attribute 'mergedValue'",
      "while evaluating the option `users.users.alice.uid':",
    ]);
  });
});

describe('laziness, as in nixpkgs', () => {
  // 2.26+ end the JSON with a newline.
  const value = (host: string, path: string) => {
    const r = nix(['eval', '--json', '--no-write-lock-file', `${hostsDir}#${hostAttr(host)}.${path}`]);
    return { ...r, stdout: r.stdout.trimEnd() };
  };

  test('only the options that are used are checked', () => {
    // missingAttr's host name is broken and badEnum's k3s role is, but other options evaluate.
    assert.equal(value('missingAttr', 'config.services.openssh.enable').stdout, 'false');
    assert.equal(value('badEnum', 'config.networking.hostName').stdout, '"f"');
    assert.equal(value('wrongType', 'config.services.openssh.ports').stdout, '[22]');
    assert.equal(value('conflict', 'config.services.k3s.role').stdout, '"server"');
  });

  test('definitions without an option are reported as soon as `config` is used', () => {
    const r = value('unknownOption', 'config.networking.hostName');
    assert.equal(r.status, 1);
    assert.equal(parsed(r.stderr).kind, 'option-does-not-exist');
  });
});

describe('lib.evalModules on the captured flake itself', () => {
  // The flake and options.nix of the capture, verbatim but for the input URL.
  const OPTIONS = `{ config, lib, ... }:
{
  options = {
    networking.hostName = lib.mkOption { type = lib.types.str; };
    services.openssh.enable = lib.mkEnableOption "the OpenSSH daemon";
    services.openssh.ports = lib.mkOption { type = lib.types.listOf lib.types.port; default = [ 22 ]; };
    services.k3s.role = lib.mkOption { type = lib.types.enum [ "server" "agent" ]; default = "server"; };
    users.users = lib.mkOption { type = lib.types.attrsOf (lib.types.submodule { options.uid = lib.mkOption { type = lib.types.int; }; }); default = { }; };
    system.build.toplevel = lib.mkOption { type = lib.types.str; };
  };
  config.system.build.toplevel = "\${config.networking.hostName}-\${toString config.services.openssh.enable}-\${config.services.k3s.role}-\${builtins.toJSON config.users.users}";
}
`;
  const flake = (stub: string) => `{
  inputs.nixpkgs-lib.url = "git+file://${stub}";
  outputs = { self, nixpkgs-lib }:
    let
      lib = nixpkgs-lib.lib;
      mk = host: lib.evalModules { modules = [ ./options.nix host ]; };
    in {
      nixosConfigurations = {
        unknownOption = mk ./hosts/unknown-option.nix;
        wrongType = mk ./hosts/wrong-type.nix;
        conflict = mk ./hosts/conflict.nix;
        recursion = mk ./hosts/recursion.nix;
        missingAttr = mk ./hosts/missing-attr.nix;
        throwing = mk ./hosts/throwing.nix;
        undefinedOption = mk ./hosts/undefined.nix;
        badEnum = mk ./hosts/bad-enum.nix;
      };
    };
}
`;
  let demo: string;

  before(() => {
    const files: Record<string, string> = { 'flake.nix': flake(stubDir), 'options.nix': OPTIONS };
    for (const { file } of CASES) files[`hosts/${file}`] = readFileSync(join(hostsDir, 'hosts', file), 'utf8');
    demo = makeRepo(mkdtempSync(join(scratchDir(), 'evalModules-')), files);
    localTrees.push(demo);
    const lock = nix(['flake', 'lock'], demo);
    assert.equal(lock.status, 0, lock.stderr);
  });

  // The capture's command: nix eval --raw [--show-trace] [--log-format internal-json] .#nixosConfigurations.<host>.config.system.build.toplevel
  const run = (host: string, ...extra: string[]) =>
    nix(['eval', '--raw', ...extra, `${demo}#nixosConfigurations.${host}.config.system.build.toplevel`]);

  for (const { host } of CASES) {
    test(`${host}: the same stderr as nixpkgs' lib, but for positions inside the module system itself`, () => {
      const text = run(host);
      assert.equal(text.status, 1);
      const ours = errorText(text.stderr);
      if (host === 'recursion') {
        const recursion = byVersion({
          '2.8': /^error: infinite recursion encountered\nat \/nix\/store\/…-source\/lib\/modules\.nix:\d+:\d+:/,
          '2.26': /^error: infinite recursion encountered$/,
        });
        assert.match(finalError(ours), recursion);
      } else if (tracesFirst()) {
        assert.equal(finalError(ours), finalError(errorText(captured(`nix-2.8-module-${host}.stderr.txt`))));
      } else {
        assert.equal(ours, errorText(captured(`nix-2.8-module-${host}.stderr.txt`)));
      }
      const json = run(host, '--log-format', 'internal-json');
      const rec = errorRecord(json.stderr);
      const real = errorRecord(captured(`nix-2.8-module-${host}.jsonl`));
      assert.equal(norm(rec.raw_msg!), norm(real.raw_msg!));
      if (host !== 'recursion' && !tracesFirst()) assert.equal(norm(rec.msg), norm(real.msg));
    });
  }

  test('unknownOption with --show-trace: the message of nixpkgs; 2.8 gives no trace at all, as with nixpkgs', () => {
    const r = run('unknownOption', '--show-trace');
    const real = errorText(captured('nix-2.8-module-unknownOption-trace.stderr.txt'));
    if (tracesFirst()) assert.equal(finalError(errorText(r.stderr)), finalError(real));
    else assert.equal(errorText(r.stderr), real);
  });
});

describe('the lib', () => {
  test('has the nixpkgs names, type descriptions and priorities', () => {
    const expr = `let
      lib = (builtins.getFlake "git+file://${stubDir}").lib;
      t = lib.types;
      eval = lib.evalModules { modules = [
        { options.a = lib.mkOption { type = t.int; default = 1; };
          options.b = lib.mkOption { type = t.listOf t.str; default = [ ]; };
          options.c = lib.mkOption { type = t.lines; };
          options.d = lib.mkOption { type = t.nullOr t.bool; default = null; }; }
        { a = lib.mkDefault 2; b = lib.mkMerge [ [ "x" ] (lib.mkIf false [ "no" ]) (lib.mkIf true [ "y" ]) ]; c = "one"; }
        ({ config, ... }: { a = lib.mkForce 3; b = lib.mkBefore [ "w" ]; c = lib.mkAfter "two"; d = lib.mkOverride 10 (config.a == 3); })
      ]; };
    in {
      names = builtins.filter (n: !(lib ? \${n})) [ "evalModules" "nixosSystem" "mkOption" "mkEnableOption" "mkIf" "mkMerge"
        "mkDefault" "mkForce" "mkOverride" "types" "optional" "optionals" "mkDerivation" ];
      types = map (x: x.description) [ t.str t.bool t.int t.port (t.enum [ "a" 1 ]) (t.listOf t.port) (t.attrsOf (t.submodule { }))
        (t.nullOr t.lines) t.package (t.listOf (t.nullOr t.str)) ];
      upper = lib.strings.toUpper "openssh";
      optional = [ (lib.optional true 1) (lib.optional false 1) (lib.optionals true [ 1 2 ]) ];
      config = eval.config;
    }`;
    const r = nix(['eval', '--impure', '--json', '--expr', expr]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      names: [],
      types: [
        'string',
        'boolean',
        'signed integer',
        '16 bit unsigned integer; between 0 and 65535 (both inclusive)',
        'one of "a", 1',
        'list of 16 bit unsigned integer; between 0 and 65535 (both inclusive)',
        'attribute set of (submodule)',
        'null or strings concatenated with "\\n"',
        'package',
        'list of (null or string)',
      ],
      upper: 'OPENSSH',
      optional: [[1], [], [1, 2]],
      config: { a: 3, b: ['w', 'x', 'y'], c: 'one\ntwo', d: true },
    });
  });

  test('mkDerivation keeps its interface: name, meta.position, phases, passthru', () => {
    // In a file: newer Nix has no positions for attributes written in an `--expr` string (nor has nixpkgs then).
    const expr = `let
      lib = (builtins.getFlake "git+file://${stubDir}").lib;
      d = lib.mkDerivation { pname = "p"; version = "1"; passthru.extra = 42; buildPhase = "true"; };
      n = lib.mkDerivation { name = "n"; meta.description = "x"; };
    in { inherit (d) name extra; pos = builtins.match ".*/drv[.]nix:3" d.meta.position != null; desc = n.meta.description;
         hasPos = n.meta ? position; type = d.type; args = builtins.elemAt d.args 1; }`;
    const file = join(mkdtempSync(join(scratchDir(), 'mkDerivation-')), 'drv.nix');
    writeFileSync(file, expr);
    const r = nix(['eval', '--impure', '--json', '--file', file]);
    assert.equal(r.status, 0, r.stderr);
    const v = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual([v.name, v.extra, v.pos, v.desc, v.hasPos, v.type], ['p-1', 42, true, 'x', true, 'derivation']);
    assert.match(String(v.args), /"action":"setPhase","phase":"buildPhase"/);
    assert.match(String(v.args), /\$\{NIX_LOG_FD:-2\}/);
  });
});

describe('examples/hello still works', () => {
  let hello: string;
  before(() => {
    hello = copyFixture('hello');
  });

  for (const host of ['web', 'db']) {
    test(`nix build --dry-run of its ${host} host`, () => {
      const r = nix(['build', '--dry-run', '--no-link', '--no-write-lock-file', toplevel(hello, host)]);
      assert.equal(r.status, 0, r.stderr);
      // Other tests may have built this system already; then there is nothing left to build.
      const builds = parseDryRun(r.stderr)?.builds ?? [];
      assert.ok(builds.length === 0 || builds.some((d) => d.endsWith(`-nixos-system-${host}.drv`)), r.stderr);
      const drv = nix(['eval', '--raw', '--no-write-lock-file', `${toplevel(hello, host)}.drvPath`]);
      assert.match(drv.stdout, new RegExp(`-nixos-system-${host}\\.drv$`), drv.stderr);
    });
  }

  test('its motd module sees the host name', () => {
    const r = nix(['eval', '--raw', '--no-write-lock-file', `${hello}#nixosConfigurations.web.config.users.motd`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'Welcome to web');
  });

  test('nix build of its hello package', () => {
    const r = nix(['build', '--no-link', '--no-write-lock-file', `${hello}#hello`]);
    assert.equal(r.status, 0, r.stderr);
  });
});
