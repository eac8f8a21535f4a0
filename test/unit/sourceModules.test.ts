import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { findOptionDefinitions, moduleRoots, scanNix, type OptionDefinition } from '../../src/core/source';

const fixture = (name: string): string => readFileSync(`test/fixtures/source/${name}`, 'utf8');

/** `match@line:key` for each definition (1-based lines, as shown to people). */
function defs(text: string, option: string | string[]): string[] {
  const path = typeof option === 'string' ? option.split('.') : option;
  const lines = scanNix(text).lines();
  return findOptionDefinitions(text, path).map(
    (d: OptionDefinition) => `${d.match}@${lines.positionAt(d.range.start).line + 1}:${text.slice(d.range.start, d.range.end)}`,
  );
}

// The host modules of the captured Nix 2.8 module-system errors (shared/reference/captured/module-errors-nix-2.8.txt).

test('unknown option: `services.openssh.enabel = true;` in hosts/unknown-option.nix', () => {
  assert.deepEqual(defs(fixture('hosts/unknown-option.nix'), 'services.openssh.enabel'), ['exact@3:services.openssh.enabel']);
  assert.deepEqual(defs(fixture('hosts/unknown-option.nix'), 'services.openssh.enable'), []);
});

test('wrong type: `users.users.alice.uid = "1000";`', () => {
  const text = fixture('hosts/wrong-type.nix');
  const [d] = findOptionDefinitions(text, ['users', 'users', 'alice', 'uid']);
  assert.equal(d.match, 'exact');
  assert.equal(text.slice(d.segmentRange.start, d.segmentRange.end), 'uid');
  assert.equal(text.slice(d.binding.valueRange.start, d.binding.valueRange.end), '"1000"');
  // Asking for the enclosing attribute finds the line that defines part of it.
  assert.deepEqual(defs(text, 'users.users.alice'), ['nested@3:users.users.alice.uid']);
});

test('bad enum: `services.k3s.role = "banana";`', () => {
  assert.deepEqual(defs(fixture('hosts/bad-enum.nix'), 'services.k3s.role'), ['exact@3:services.k3s.role']);
});

test('conflict: `networking.hostName` twice, once in an inline module of `imports = [ { … } ]`', () => {
  assert.deepEqual(defs(fixture('hosts/conflict.nix'), 'networking.hostName'), [
    'exact@3:networking.hostName',
    'exact@4:networking.hostName',
  ]);
  const text = fixture('hosts/conflict.nix');
  const values = findOptionDefinitions(text, ['networking', 'hostName']).map((d) =>
    text.slice(d.binding.valueRange.start, d.binding.valueRange.end),
  );
  assert.deepEqual(values, ['"c1"', '"c2"']);
});

test('the other hosts: values that throw, call missing functions, or sit beside a conditional import', () => {
  assert.deepEqual(defs(fixture('hosts/throwing.nix'), 'networking.hostName'), ['exact@2:networking.hostName']);
  assert.deepEqual(defs(fixture('hosts/missing-attr.nix'), 'networking.hostName'), ['exact@3:networking.hostName']);
  assert.deepEqual(defs(fixture('hosts/recursion.nix'), 'networking.hostName'), ['exact@4:networking.hostName']);
  assert.deepEqual(defs(fixture('hosts/recursion.nix'), 'services.openssh.enable'), []);
  assert.deepEqual(defs(fixture('hosts/undefined.nix'), 'services.openssh.enable'), ['exact@2:services.openssh.enable']);
});

test('declarations under `options` are not definitions; `config.` attribute paths are', () => {
  const text = fixture('options.nix');
  assert.deepEqual(defs(text, 'networking.hostName'), []);
  assert.deepEqual(defs(text, 'system.build.toplevel'), ['exact@11:config.system.build.toplevel']);
  assert.deepEqual(defs(fixture('config-attrpath.nix'), 'services.openssh.enable'), ['exact@4:config.services.openssh.enable']);
  assert.deepEqual(defs(fixture('config-attrpath.nix'), 'foo'), []);
});

test('every way of writing a definition: nested sets, config = mkIf (mkMerge [ … ]), mkIf, mkForce, mkDefault', () => {
  const text = fixture('module-styles.nix');
  // Not in comments, not in the let block, not in `options`, not in the indented string.
  assert.deepEqual(defs(text, 'services.openssh.enable'), [
    'exact@24:services.openssh.enable',
    'exact@29:enable',
    'exact@35:openssh.enable',
  ]);
  assert.deepEqual(defs(text, 'services.openssh.settings.PermitRootLogin'), ['exact@30:settings.PermitRootLogin']);
  assert.deepEqual(defs(text, 'networking.firewall.allowedTCPPorts'), ['exact@25:networking.firewall.allowedTCPPorts']);
  // Quoted keys are one segment each.
  assert.deepEqual(defs(text, ['services', 'nginx', 'virtualHosts', 'example.org', 'root']), [
    'exact@36:"nginx".virtualHosts."example.org".root',
  ]);
  assert.deepEqual(defs(text, 'services.nginx.virtualHosts.example.org.root'), []);
});

test('prefix matches: `users.users.alice = { uid = …; }`, and a value we cannot see into', () => {
  const text = fixture('module-styles.nix');
  assert.deepEqual(defs(text, 'users.users.alice.uid'), ['exact@40:uid']);
  assert.deepEqual(defs(text, 'users.users.bob.uid'), ['enclosing@42:users.users.bob']);
  assert.deepEqual(defs(text, ['environment', 'etc', 'motd', 'text']), ['exact@43:environment.etc."motd".text']);
});

test('inline modules in a flake: `modules = [ { … } ({ pkgs, ... }: { … }) ]`', () => {
  const text = fixture('flakes/input-sets.nix');
  assert.deepEqual(defs(text, 'networking.hostName'), ['exact@13:networking.hostName']);
  assert.deepEqual(defs(text, 'services.openssh.enable'), ['exact@15:services.openssh.enable']);
  assert.equal(moduleRoots(text).length, 3); // the flake itself, and the two inline modules
});

test('if-then-else, `//` and lib.mkIf values are looked through', () => {
  const text = [
    '{ config, lib, ... }:',
    '{',
    '  services = if config.x then { a.enable = true; } else lib.mkIf config.y { a.enable = false; };',
    '  programs = { b.enable = true; } // lib.optionalAttrs config.z { c.enable = true; };',
    '  boot = lib.mkOverride 50 { d = 1; };',
    '}',
  ].join('\n');
  assert.deepEqual(defs(text, 'services.a.enable'), ['exact@3:a.enable', 'exact@3:a.enable']);
  assert.deepEqual(defs(text, 'programs.c.enable'), ['exact@4:c.enable']);
  assert.deepEqual(defs(text, 'boot.d'), ['exact@5:d']);
});

test('damaged modules still give what can be found', () => {
  const text = '{\n  services.openssh = {\n    enable = true;\n  networking.hostName = "x"\n  users.users.alice.uid = 1;\n}\n';
  assert.deepEqual(defs(text, 'networking.hostName'), ['exact@4:networking.hostName']);
  assert.deepEqual(defs(text, 'users.users.alice.uid'), ['exact@5:users.users.alice.uid']);
  assert.deepEqual(defs(text, 'services.openssh.enable'), ['exact@3:enable']);
  assert.deepEqual(defs('', 'a'), []);
  assert.deepEqual(defs('{ a = ', 'a.b'), []);
  assert.deepEqual(findOptionDefinitions('{ a = 1; }', []), []);
});
