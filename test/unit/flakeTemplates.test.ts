import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkTemplateReference,
  isTemplatePath,
  listTree,
  planTemplate,
  templateInitArgs,
  templateRef,
  templatesOf,
  welcomeText,
} from '../../src/core/flake/templates';
import { parseFlakeShow } from '../../src/core/flake/show';
import { EXPERIMENTAL } from '../../src/core/nix/args';
import { ExitError, run } from '../../src/core/nix/process';
import { copyFixture, nixTestEnv, scratchDir, testNix } from '../support/nix';

function folder(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(scratchDir(), 'tpl-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

test('references: a template of a flake by its attribute path; a typed reference is one word and no option', () => {
  assert.equal(templateRef('git+file:///src/f', ['templates', 'rust']), 'git+file:///src/f#templates.rust');
  assert.equal(templateRef('path:/src/f', ['templates', 'my.tpl']), 'path:/src/f#templates."my.tpl"');
  assert.equal(templateRef('path:/src/f', ['templates', 'a"b']), undefined);
  assert.deepEqual(templateInitArgs('templates#rust'), ['-t', 'templates#rust']);
  assert.deepEqual(checkTemplateReference('  github:NixOS/templates#rust '), { ok: true, value: 'github:NixOS/templates#rust' });
  for (const bad of ['', '   ', '--option x', 'a b', 'x\ny']) assert.equal(checkTemplateReference(bad).ok, false, JSON.stringify(bad));
  assert.ok(isTemplatePath(['templates', 'x']) && isTemplatePath(['defaultTemplate']));
  assert.ok(!isTemplatePath(['templates']) && !isTemplatePath(['packages', 'x86_64-linux', 'x']));
});

test('the templates of a flake listing, the legacy defaultTemplate as default', () => {
  const parsed = parseFlakeShow(
    JSON.stringify({
      templates: { rust: { type: 'template', description: 'Rust' }, go: { type: 'template', description: 'Go' } },
      defaultTemplate: { type: 'template', description: 'Old' },
      packages: { 'x86_64-linux': { hello: { type: 'derivation', name: 'hello' } } },
    }),
  );
  assert.ok(parsed.ok);
  assert.deepEqual(templatesOf(parsed.model), [
    { attrPath: ['defaultTemplate'], name: 'default', description: 'Old' },
    { attrPath: ['templates', 'go'], name: 'go', description: 'Go' },
    { attrPath: ['templates', 'rust'], name: 'rust', description: 'Rust' },
  ]);
});

test('a plan: new files are added, identical ones left, different ones (or a file where a folder goes) refused', async () => {
  const staged = folder({ 'flake.nix': '{ }\n', 'README.md': 'new\n', 'src/main.rs': 'fn main() {}\n', 'lib/x.nix': 'x\n' });
  symlinkSync('flake.nix', join(staged, 'link'));
  assert.deepEqual(
    (await listTree(staged)).map((e) => `${e.kind} ${e.path}`),
    ['file README.md', 'file flake.nix', 'dir lib', 'file lib/x.nix', 'symlink link', 'dir src', 'file src/main.rs'],
  );
  assert.deepEqual(await planTemplate(staged, join(scratchDir(), 'does-not-exist')), {
    added: ['README.md', 'flake.nix', 'lib/x.nix', 'link', 'src/main.rs'],
    identical: [],
    conflicts: [],
  });
  const target = folder({ 'flake.nix': '{ }\n', 'README.md': 'mine\n', src: 'a file where a folder goes', 'other.txt': 'untouched' });
  symlinkSync('elsewhere', join(target, 'link'));
  mkdirSync(join(target, 'lib'));
  assert.deepEqual(await planTemplate(staged, target), {
    added: ['lib/x.nix'],
    identical: ['flake.nix'],
    conflicts: ['README.md', 'link', 'src'],
  });
  const same = folder({ 'lib/x.nix': 'x\n' });
  symlinkSync('flake.nix', join(same, 'link'));
  assert.deepEqual((await planTemplate(staged, same)).identical, ['lib/x.nix', 'link']);
});

test('the welcome text is what nix flake init prints besides its file lines (2.8 indents it)', () => {
  assert.equal(
    welcomeText(['wrote: /x/README.md', 'wrote: /x/flake.nix', '', '', '    Build it with `nix build`.', '    Then run it.', '']),
    'Build it with `nix build`.\nThen run it.',
  );
  assert.equal(welcomeText(['warning: Git tree is dirty', 'wrote: "/x/flake.nix"', '', '', '# Hello', '', 'Text', '']), '# Hello\n\nText');
  assert.equal(welcomeText(['wrote: "/x/flake.nix"', 'skipping identical file: /s/README.md']), undefined);
});

// Nix's own refusal is not uniform (2.8 stops at the first conflict, 2.34 writes the other files first): the plan is
// made from an init into an empty folder, before anything is written where the user chose.
test('with real nix: init into an empty folder gives the plan; the conflict is found before nix writes anything', async () => {
  const src = copyFixture('format');
  const ref = templateRef(`git+file://${src}`, ['templates', 'hello'])!;
  const init = (cwd: string) => run(testNix(), [...EXPERIMENTAL, 'flake', 'init', ...templateInitArgs(ref)], { cwd, env: nixTestEnv() });
  const staged = folder();
  const r = await init(staged);
  assert.deepEqual(readdirSync(staged).sort(), ['README.md', 'flake.nix']);
  assert.match(welcomeText(r.stderrLines) ?? '', /^Build it with `?nix build`?\.$/, 'nix renders its markdown');
  // The user's folder holds a README of their own.
  const target = folder({ 'README.md': 'mine\n' });
  const plan = await planTemplate(staged, target);
  assert.deepEqual(plan, { added: ['flake.nix'], identical: [], conflicts: ['README.md'] });
  // What nix alone would do there: fail, after having written flake.nix on some versions — which the plan avoids.
  await assert.rejects(init(target), (e: unknown) => e instanceof ExitError && /refusing to overwrite/.test(e.stderrLines.join('\n')));
  assert.equal(readFileSync(join(target, 'README.md'), 'utf8'), 'mine\n');
  // A folder without conflicts: nix writes exactly the planned files.
  const clean = folder({ 'notes.txt': 'n' });
  assert.deepEqual(await planTemplate(staged, clean), { added: ['README.md', 'flake.nix'], identical: [], conflicts: [] });
  await init(clean);
  assert.deepEqual(readdirSync(clean).sort(), ['README.md', 'flake.nix', 'notes.txt']);
  assert.ok(existsSync(join(clean, 'flake.nix')));
});
