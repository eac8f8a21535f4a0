// Option paths with quoted parts, as the module system prints them (`users.users."alice.smith".uid`): read into
// their parts, written back, and — with the real nix and the nixpkgs stand-in's module system — an unknown option
// under a name with a dot placed on the line that defines it, with its suggestion.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { parseNixErrors } from '../../src/core/errors/fromLog';
import { findOptionDefinitions, LineIndex, parseOptionPath, showOptionPath } from '../../src/core/source';
import { copyFixture, makeRepo, runTestNix, scratchDir } from '../support/nix';

describe('option paths', () => {
  test('split at the dots outside quotes; quoted parts without their quotes and escapes', () => {
    assert.deepEqual(parseOptionPath('services.openssh.enable'), ['services', 'openssh', 'enable']);
    assert.deepEqual(parseOptionPath('users.users."alice.smith".uid'), ['users', 'users', 'alice.smith', 'uid']);
    assert.deepEqual(parseOptionPath('services.nginx.virtualHosts."example.org".locations."/".root'), [
      'services',
      'nginx',
      'virtualHosts',
      'example.org',
      'locations',
      '/',
      'root',
    ]);
    assert.deepEqual(parseOptionPath('a."b\\"c\\\\d".e'), ['a', 'b"c\\d', 'e']);
    assert.deepEqual(parseOptionPath('fileSystems."/".device'), ['fileSystems', '/', 'device']);
    assert.deepEqual(parseOptionPath('users.users.<name>.uid'), ['users', 'users', '<name>', 'uid']);
    assert.deepEqual(parseOptionPath('"unterminated'), ['unterminated']);
  });

  test('written back as the module system prints them', () => {
    for (const shown of [
      'services.openssh.enable',
      'users.users."alice.smith".uid',
      'services.nginx.virtualHosts."example.org".locations."/".root',
      'a."b\\"c\\\\d".e',
      'users.users.<name>.uid',
      'environment.etc."nginx/nginx.conf".text',
      'x."in".y',
      'x."${a}".y'.replace('${', '\\${'),
    ])
      assert.equal(showOptionPath(parseOptionPath(shown)), shown, shown);
  });
});

describe('an unknown option under a quoted name, with the real nix and the stand-in module system', () => {
  const HOST = `{
  networking.hostName = "quoted";
  users.users."alice.smith" = {
    isNormalUser = true;
    uidd = 1000;
  };
}
`;
  let dir: string;
  before(() => {
    const copies = new Map<string, string>();
    copyFixture('hosts', copies);
    const stub = copies.get('nixpkgs-stub')!;
    dir = makeRepo(mkdtempSync(join(scratchDir(), 'quoted-')), {
      'flake.nix': `{
  inputs.nixpkgs.url = "git+file://${stub}";
  outputs = { self, nixpkgs }: {
    nixosConfigurations.quoted = nixpkgs.lib.nixosSystem { modules = [ ./host.nix ]; };
  };
}
`,
      'host.nix': HOST,
    });
    const lock = runTestNix(['flake', 'lock'], dir);
    assert.equal(lock.status, 0, lock.stderr);
  });

  test('the error names `users.users."alice.smith".uidd`; its parts find the defining line; the suggestion is `uid`', () => {
    const r = runTestNix(['eval', '--raw', `${dir}#nixosConfigurations.quoted.config.system.build.toplevel.drvPath`], dir);
    assert.notEqual(r.status, 0);
    const e = parseNixErrors(r.stderr).find((x) => x.kind === 'option-does-not-exist');
    assert.ok(e && e.kind === 'option-does-not-exist', r.stderr);
    const kind = e;
    assert.equal(kind.optionPath, 'users.users."alice.smith".uidd');
    const parts = parseOptionPath(kind.optionPath);
    assert.deepEqual(parts, ['users', 'users', 'alice.smith', 'uidd']);
    const found = findOptionDefinitions(HOST, parts);
    assert.equal(found.length, 1, 'found through the quoted name');
    assert.equal(new LineIndex(HOST).positionAt(found[0]!.range.start).line, 4, 'on the uidd line');
    assert.ok(
      kind.suggestions.some((s) => parseOptionPath(s).at(-1) === 'uid'),
      kind.suggestions.join(', '),
    );
    // Split at every dot, as before, the path finds nothing.
    assert.equal(findOptionDefinitions(HOST, kind.optionPath.split('.')).length, 0);
  });
});
