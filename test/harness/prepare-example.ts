// `npm run example`: copies the bundled example flake (examples/hello and the nixpkgs stand-in it uses) into fresh
// git repositories and links .test-runs/example to it, for F5 (Run Extension) in .vscode/launch.json.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { copyFixture, repoRoot } from '../support/nix';

const runs = join(repoRoot(), '.test-runs');
mkdirSync(runs, { recursive: true });
const dir = copyFixture('hello', new Map(), runs);
const link = join(runs, 'example');
rmSync(link, { force: true });
symlinkSync(dir, link);
console.log(link);
