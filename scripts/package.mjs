// `npm run package`: the production bundles, then the VSIX (dist/nix-flakes.vsix) made by @vscode/vsce.
//
// The repository's public URL is one setting, the environment variable NIX_FLAKES_REPOSITORY_URL
// (e.g. https://github.com/OWNER/nix-flakes). With it, the VSIX's manifest gets `repository`, `bugs` and `homepage`
// from it and README links become absolute (--baseContentUrl, --baseImagesUrl), so that the images render in the
// Marketplace and on Open VSX. Without it, the VSIX is still made (with relative README links) and this says what is
// missing.
//
// The committed package.json is never edited: vsce runs in a staging folder holding a copy of what the VSIX may hold
// (.vscodeignore still chooses), with the filled-in manifest there.
//   node scripts/package.mjs              build, then package
//   node scripts/package.mjs --no-build   package what dist/ holds
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repositoryFields, SETTING } from './repository.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'nix-flakes.vsix');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function main() {
  const setting = process.env[SETTING]?.trim();
  const repo = setting ? repositoryFields(setting) : undefined;
  if (repo?.error) {
    console.error(`package: ${repo.error}`);
    return 1;
  }
  if (!process.argv.includes('--no-build')) {
    const code = run(process.execPath, [join(root, 'scripts', 'build.mjs'), '--production'], { cwd: root });
    if (code !== 0) return code;
  }

  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const vsceArgs = ['package', '--no-dependencies', '-o', out];
  if (repo) {
    for (const k of ['repository', 'bugs', 'homepage']) {
      if (manifest[k] !== undefined && JSON.stringify(manifest[k]) !== JSON.stringify(repo.fields[k])) {
        console.error(`package: package.json has a ${k} of its own; ${SETTING} would replace it. Remove one of the two.`);
        return 1;
      }
    }
    Object.assign(manifest, repo.fields);
    vsceArgs.push('--baseContentUrl', repo.content, '--baseImagesUrl', repo.images);
  } else {
    console.warn(
      `package: ${SETTING} is not set, so the VSIX has no repository, bugs or homepage, and README's images are relative links that ` +
        "render in neither the Marketplace nor Open VSX. Set it to the repository's https:// URL (GitHub or GitLab) before publishing.",
    );
    vsceArgs.push('--allow-missing-repository', '--no-rewrite-relative-links');
  }

  const stage = mkdtempSync(join(tmpdir(), 'nix-flakes-package-'));
  try {
    // What .vscodeignore may let in; vsce applies it to the copy as it would to the repository.
    for (const p of ['.vscodeignore', 'README.md', 'CHANGELOG.md', 'LICENSE', 'media', 'dist']) {
      const from = join(root, p);
      if (!existsSync(from)) continue;
      cpSync(from, join(stage, p), { recursive: true, filter: (src) => !src.endsWith('.vsix') && !src.endsWith('.map') });
    }
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
    const code = run(process.execPath, [vsce, ...vsceArgs], { cwd: stage });
    if (code !== 0) return code;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  console.log(`package: ${out} (${(statSync(out).size / 1024).toFixed(0)} KiB)`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exit(main());
