// The manifest as the Marketplace, Open VSX and VS Code read it: the icon (a 128×128 PNG, its size read from the
// file's header), every command with a title and category, every setting described, the walkthrough's steps with
// their media and completion events, what the VSIX may hold; and the repository URL the packaging fills in.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/nix';
// @ts-expect-error: a plain ES module of the build scripts, without type declarations
import { repositoryFields } from '../../scripts/repository.mjs';

interface Step {
  id: string;
  title: string;
  description: string;
  media: { image?: string | Record<string, string>; markdown?: string; svg?: string; altText?: string };
  completionEvents?: string[];
}

const root = repoRoot();
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const contributes = manifest.contributes;

/** Width and height from a PNG's IHDR chunk, or an error when the bytes are not a PNG. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(bytes.length >= 24 && bytes.subarray(0, 8).equals(signature), 'a PNG signature');
  assert.equal(bytes.subarray(12, 16).toString('latin1'), 'IHDR', 'the first chunk is IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('manifest', () => {
  test('the icon is a 128×128 PNG that exists, and the gallery banner has a colour', () => {
    assert.equal(typeof manifest.icon, 'string');
    assert.match(manifest.icon, /\.png$/);
    const path = join(root, manifest.icon);
    assert.ok(existsSync(path), `${manifest.icon} exists`);
    assert.deepEqual(pngSize(readFileSync(path)), { width: 128, height: 128 });
    assert.match(manifest.galleryBanner?.color ?? '', /^#[0-9a-f]{6}$/i);
    assert.ok(['dark', 'light'].includes(manifest.galleryBanner?.theme));
  });

  test('the PNG reader refuses what is not a PNG', () => {
    assert.throws(() => pngSize(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')), /PNG signature/);
  });

  test('identity: license, semver version, categories and keywords', () => {
    assert.equal(manifest.license, 'MIT');
    assert.ok(existsSync(join(root, 'LICENSE')));
    assert.match(manifest.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    assert.deepEqual(manifest.categories, ['Programming Languages', 'Testing', 'Other']);
    assert.ok(manifest.keywords.length > 0 && manifest.keywords.length <= 30, 'vsce allows at most 30 keywords');
    // No invented home: repository, bugs and homepage come from the packaging setting only.
    for (const k of ['repository', 'bugs', 'homepage']) assert.equal(manifest[k], undefined, `${k} is filled at packaging time`);
  });

  test('the changelog has an entry for this version', () => {
    const text = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');
    assert.match(text, /^# Changelog$/m);
    assert.ok(text.includes(`## [${manifest.version}] - `), `CHANGELOG.md has ## [${manifest.version}]`);
  });

  test('every command has a title and a category', () => {
    const commands = contributes.commands as { command: string; title?: string; category?: string }[];
    assert.ok(commands.length > 0);
    const missing = commands.filter((c) => !c.title?.trim() || !c.category?.trim()).map((c) => c.command);
    assert.deepEqual(missing, []);
  });

  test('every setting has a description', () => {
    const props = contributes.configuration.properties as Record<string, { description?: string; markdownDescription?: string }>;
    const missing = Object.entries(props)
      .filter(([, p]) => !p.description?.trim() && !p.markdownDescription?.trim())
      .map(([k]) => k);
    assert.ok(Object.keys(props).length > 0);
    assert.deepEqual(missing, []);
  });

  test('the walkthrough: its steps have media that exist and complete on events VS Code knows', () => {
    const walkthroughs = contributes.walkthroughs as { id: string; title: string; steps: Step[] }[];
    assert.equal(walkthroughs.length, 1);
    const w = walkthroughs[0]!;
    assert.equal(w.title, 'Get started with Nix Flakes');
    const commands = new Set((contributes.commands as { command: string }[]).map((c) => c.command));
    const views = new Set(Object.values(contributes.views as Record<string, { id: string }[]>).flatMap((v) => v.map((x) => x.id)));
    for (const step of w.steps) {
      const files = [
        step.media.markdown,
        step.media.svg,
        ...(typeof step.media.image === 'string' ? [step.media.image] : Object.values(step.media.image ?? {})),
      ];
      assert.ok(files.some(Boolean), `${step.id} has media`);
      for (const f of files.filter((x): x is string => !!x)) {
        assert.ok(existsSync(join(root, f)), `${step.id}: ${f} exists`);
        assert.match(f, /^media\/walkthrough\//, `${step.id}: its media is under media/walkthrough/`);
      }
      if (step.media.image) assert.ok(step.media.altText, `${step.id}: an image has its alt text`);
      assert.ok(step.completionEvents?.length, `${step.id} completes on an event, not on being selected`);
      for (const e of step.completionEvents ?? []) {
        const [, kind, arg] = /^([^:]+):(.*)$/.exec(e) ?? [];
        assert.ok(
          ['onCommand', 'onContext', 'onView', 'onSettingChanged', 'onLink', 'onEvent', 'extensionInstalled', 'onStepSelected'].includes(
            kind ?? '',
          ),
          `${step.id}: ${e}`,
        );
        if (kind === 'onCommand') assert.ok(commands.has(arg!), `${step.id}: ${arg} is a command of ours`);
        if (kind === 'onView') assert.ok(views.has(arg!), `${step.id}: ${arg} is a view of ours`);
      }
      // The buttons of a step run commands that exist (ours, or the workbench's own).
      for (const [, cmd] of step.description.matchAll(/\(command:([\w.]+)/g)) {
        assert.ok(commands.has(cmd!) || !cmd!.startsWith('nixFlakes.') || /\.focus$/.test(cmd!), `${step.id}: ${cmd}`);
      }
    }
    const ids = w.steps.map((s) => s.id.replace(/^nixFlakes\.getStarted\./, ''));
    assert.deepEqual(ids, ['nix', 'flake', 'outputs', 'build', 'dryBuild']);
  });

  test('the welcome views for a missing or too old Nix say what to run on each platform', () => {
    const welcome = contributes.viewsWelcome as { view: string; contents: string; when: string }[];
    for (const state of ['nixMissing', 'nixTooOld']) {
      const w = welcome.find((x) => x.when.includes(`nixFlakes.state == ${state}`));
      assert.ok(w, state);
      assert.match(w.contents, /apt/, `${state}: Debian and Ubuntu`);
      assert.match(w.contents, /nixos\.org\/nix\/install/, `${state}: the official installer`);
      assert.match(w.contents, /\(command:nixFlakes\.showNixVersion\)/, `${state}: Detect Nix Again`);
      assert.match(w.contents, /openWalkthrough\?%22nix-flakes\.nix-flakes%23nixFlakes\.getStarted%22/, `${state}: the walkthrough`);
    }
    assert.match(welcome.find((x) => x.when.includes('nixMissing'))!.contents, /NixOS/);
  });

  test('the VSIX may hold what the manifest points at, and no sources', () => {
    const ignore = readFileSync(join(root, '.vscodeignore'), 'utf8').split('\n');
    assert.equal(ignore[0], '**', 'everything is left out unless let in');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1));
    const globToRe = (g: string) =>
      new RegExp(
        `^${g
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*\*/g, '.+')
          .replace(/\*/g, '[^/]+')}$`,
      );
    const holds = (path: string) => allowed.some((g) => globToRe(g).test(path));
    const wanted = [manifest.icon, manifest.main.replace(/^\.\//, ''), 'CHANGELOG.md', 'README.md', 'LICENSE'];
    for (const w of contributes.walkthroughs[0].steps as Step[]) if (w.media.markdown) wanted.push(w.media.markdown);
    for (const c of contributes.viewsContainers.activitybar as { icon: string }[]) wanted.push(c.icon);
    for (const p of wanted) assert.ok(holds(p), `${p} is let in`);
    for (const p of [
      'src/extension.ts',
      'media/icon.svg',
      'media/screenshots/outputs-tree.png',
      'dist/extension.js.map',
      'node_modules/x/index.js',
    ]) {
      assert.ok(!holds(p), `${p} is left out`);
    }
  });

  test('packaging scripts: npm run package goes through scripts/package.mjs', () => {
    assert.equal(manifest.scripts.package, 'node scripts/package.mjs');
  });
});

describe('repository URL for packaging', () => {
  test('a GitHub URL gives the fields and link bases', () => {
    const r = repositoryFields('https://github.com/someone/nix-flakes');
    assert.deepEqual(r, {
      fields: {
        repository: { type: 'git', url: 'https://github.com/someone/nix-flakes.git' },
        bugs: { url: 'https://github.com/someone/nix-flakes/issues' },
        homepage: 'https://github.com/someone/nix-flakes#readme',
      },
      content: 'https://github.com/someone/nix-flakes/blob/HEAD/',
      images: 'https://github.com/someone/nix-flakes/raw/HEAD/',
    });
  });

  test('a trailing slash or .git is the same repository', () => {
    assert.deepEqual(
      repositoryFields('https://github.com/someone/nix-flakes.git'),
      repositoryFields('https://github.com/someone/nix-flakes/'),
    );
  });

  test('GitLab, also in a group, and a self-hosted gitlab.* host', () => {
    const r = repositoryFields('https://gitlab.com/group/sub/nix-flakes');
    assert.equal(r.content, 'https://gitlab.com/group/sub/nix-flakes/-/blob/HEAD/');
    assert.equal(r.images, 'https://gitlab.com/group/sub/nix-flakes/-/raw/HEAD/');
    assert.equal(repositoryFields('https://gitlab.example.org/a/b').fields.bugs.url, 'https://gitlab.example.org/a/b/issues');
  });

  test('what cannot be used says why', () => {
    assert.match(repositoryFields('not a url').error, /is not a URL/);
    assert.match(repositoryFields('http://github.com/a/b').error, /https/);
    assert.match(repositoryFields('https://github.com/a').error, /OWNER\/NAME/);
    assert.match(repositoryFields('https://user:secret@github.com/a/b').error, /credentials/);
    assert.match(repositoryFields('https://example.org/a/b').error, /GitHub and GitLab/);
  });
});
