import * as assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extension, fixture, flakeOf, label, until } from './helpers';
import { parseFlakeLock, allInputs } from '../../../src/core/flake/lock';
import type { InputNode } from '../../../src/features/inputs/view';

function commit(dir: string, file: string, line: string): void {
  appendFileSync(join(dir, file), line);
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
  execFileSync('git', ['commit', '-qam', 'change'], { cwd: dir, env });
}

function lockOf(name: string) {
  const r = parseFlakeLock(readFileSync(join(fixture(name), 'flake.lock'), 'utf8'));
  if (!r.ok) throw new Error(r.error.message);
  return r.lock;
}

describe('Flake Inputs', () => {
  // The suite edits multi's flake.nix and lock and moves the repositories it locks on: put multi back afterwards.
  let multiNix = '';
  let multiLock = '';
  before(() => {
    multiNix = readFileSync(join(fixture('multi'), 'flake.nix'), 'utf8');
    multiLock = readFileSync(join(fixture('multi'), 'flake.lock'), 'utf8');
  });
  after(() => {
    writeFileSync(join(fixture('multi'), 'flake.nix'), multiNix);
    writeFileSync(join(fixture('multi'), 'flake.lock'), multiLock);
  });

  it('shows each input with its type, revision, reference and age, follows as links, from flake.lock alone', async () => {
    const api = await extension();
    const flake = await flakeOf('multi');
    const roots = await api.inputs.provider.getChildren();
    const root = roots.find((n) => n.kind === 'flake' && n.state.flake.uri.fsPath === flake.uri.fsPath)!;
    assert.ok(root, 'a root per flake');
    const inputs = await api.inputs.provider.getChildren(root);
    const items = inputs.map((n) => api.inputs.provider.getTreeItem(n));
    assert.deepEqual(items.map(label), ['lib-src', 'nixpkgs', 'tools']);
    const nixpkgs = items[1];
    assert.match(String(nixpkgs.description), /^[0-9a-f]{7} · (just now|\d+ (seconds?|minutes?) ago) · git\+file:\/\//);
    const tools = inputs[2] as Extract<InputNode, { kind: 'input' }>;
    const sub = await api.inputs.provider.getChildren(tools);
    assert.deepEqual(
      sub.map((n) => label(api.inputs.provider.getTreeItem(n))),
      ['nixpkgs'],
    );
    assert.equal((sub[0] as Extract<InputNode, { kind: 'input' }>).input.id, 'tools/nixpkgs');
  });

  it('flags nixpkgs locked twice at different revisions, in the view and on the declaration in flake.nix', async () => {
    const api = await extension();
    const dups = await api.inputs.locks.duplicates();
    const group = dups.find((g) => g.occurrences.some((o) => o.id === 'tools/nixpkgs'));
    assert.ok(group, JSON.stringify(dups.map((g) => g.label)));
    assert.ok(group.revisions.length >= 2);
    assert.ok(group.suggestions.some((s) => s.input === 'tools' && s.dep === 'nixpkgs' && s.target === 'nixpkgs'));
    const roots = await api.inputs.provider.getChildren();
    assert.equal(roots[0].kind, 'duplicates');
    const file = vscode.Uri.file(join(fixture('multi'), 'flake.nix'));
    const diags = await until('the duplicate warning on flake.nix', () => {
      const d = vscode.languages.getDiagnostics(file).filter((x) => x.code === 'duplicate-input');
      return d.length ? d : undefined;
    });
    const text = readFileSync(file.fsPath, 'utf8').split('\n');
    assert.match(text[diags[0].range.start.line], /tools\.url/);
    assert.match(diags[0].message, /inputs\.tools\.inputs\.nixpkgs\.follows = "nixpkgs"/);
  });

  it('updates one input: only that one changes (after a new commit in its repository)', async () => {
    const api = await extension();
    const flake = await flakeOf('multi');
    const before = lockOf('multi');
    commit(fixture('tools'), 'flake.nix', '# tools moved on\n');
    const r = await api.inputs.update(flake, ['tools']);
    assert.equal(r.status, 'updated', JSON.stringify(r));
    const after = lockOf('multi');
    const rev = (l: typeof before, id: string) => allInputs(l).find((i) => i.id === id)?.rev;
    assert.notEqual(rev(after, 'tools'), rev(before, 'tools'));
    assert.equal(rev(after, 'nixpkgs'), rev(before, 'nixpkgs'));
    assert.ok(
      r.summary.some((s) => s.startsWith('tools: ')),
      r.summary.join('\n'),
    );
    assert.ok(!r.summary.some((s) => s.startsWith('nixpkgs: ')));
    // The command this Nix knows: `flake update NAME` from 2.19, `flake lock --update-input NAME` before.
    const nix = await api.nix();
    assert.ok(nix.ok);
    const ran =
      api
        .recentRuns()
        .map((x) => x.command)
        .filter((c) => / flake (update|lock) /.test(c))
        .pop() ?? '';
    const modern = nix.nix.version.major > 2 || nix.nix.version.minor >= 19;
    assert.match(ran, modern ? / flake update .*\btools\b/ : / flake lock .*--update-input tools\b/, `${nix.nix.version.raw}: ${ran}`);
  });

  it('update all picks up new revisions; a second run says nothing changed', async () => {
    const api = await extension();
    const flake = await flakeOf('multi');
    const before = lockOf('multi');
    commit(fixture('nixpkgs-stub'), 'flake.nix', '# nixpkgs moved on\n');
    const r = await api.inputs.update(flake, []);
    assert.equal(r.status, 'updated');
    const after = lockOf('multi');
    const rev = (l: typeof before, id: string) => allInputs(l).find((i) => i.id === id)?.rev;
    assert.notEqual(rev(after, 'nixpkgs'), rev(before, 'nixpkgs'));
    assert.equal((await api.inputs.update(flake, [])).status, 'unchanged');
  });

  it('an unknown input name gives a clear message and changes nothing', async () => {
    const api = await extension();
    const flake = await flakeOf('multi');
    const before = readFileSync(join(fixture('multi'), 'flake.lock'), 'utf8');
    const r = await api.inputs.update(flake, ['doesnotexist']);
    assert.equal(r.status, 'failed');
    assert.match(r.message ?? '', /no input named doesnotexist/);
    assert.equal(readFileSync(join(fixture('multi'), 'flake.lock'), 'utf8'), before);
  });

  it('the quick fix adds the follows, and re-locking leaves one nixpkgs', async () => {
    const api = await extension();
    const flake = await flakeOf('multi');
    const file = vscode.Uri.file(join(fixture('multi'), 'flake.nix'));
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    const diag = await until('the duplicate warning', () =>
      vscode.languages.getDiagnostics(file).find((x) => x.code === 'duplicate-input'),
    );
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      file,
      diag.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    const fix = actions.find((a) => a.title.startsWith('Make tools follow nixpkgs'));
    assert.ok(fix?.edit, actions.map((a) => a.title).join(', '));
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.match(doc.getText(), /tools\.inputs\.nixpkgs\.follows = "nixpkgs";/);
    await doc.save();
    const r = await vscode.commands.executeCommand<{ status: string }>('nixFlakes.lockFlake', flake);
    assert.equal(r.status, 'updated');
    const lock = lockOf('multi');
    const tn = allInputs(lock).find((i) => i.id === 'tools/nixpkgs')!;
    assert.deepEqual(tn.follows, ['nixpkgs']);
    const nixpkgsNodes = [...lock.nodes.keys()].filter((k) => k.startsWith('nixpkgs'));
    assert.deepEqual(nixpkgsNodes, ['nixpkgs'], 'one nixpkgs in the lock');
    await until('the warning to go away', () => !vscode.languages.getDiagnostics(file).some((x) => x.code === 'duplicate-input'));
    void api;
  });
});

/** An HTTP server that accepts a download and never answers: nix waits on it until cancelled. */
async function neverAnswering() {
  const { createServer } = await import('node:http');
  const sockets: import('node:net').Socket[] = [];
  const state = { asked: 0 };
  const server = createServer(() => state.asked++);
  server.on('connection', (s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/slow.tar.gz`,
    asked: () => state.asked,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('Flake Inputs: cancelling', () => {
  it('cancelling an update while nix is fetching leaves flake.lock as it was (here: not created)', async () => {
    const api = await extension();
    const { mkdtempSync, writeFileSync: write, existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const server = await neverAnswering();
    const dir = mkdtempSync(join(tmpdir(), 'nix-flakes-slow-input-'));
    write(join(dir, 'flake.nix'), `{\n  inputs.slow = { url = "${server.url}"; flake = false; };\n  outputs = { self, slow }: { };\n}\n`);
    execFileSync('git', ['init', '-q'], { cwd: dir });
    execFileSync('git', ['add', '-A'], { cwd: dir });
    const folder = vscode.workspace.workspaceFolders![0];
    const flake = { uri: vscode.Uri.file(dir), folder, label: 'slow-input' };
    const ac = new AbortController();
    try {
      const pending = api.inputs.update(flake, [], ac.signal);
      await until('nix to ask the server', () => server.asked() > 0, 30_000);
      const t0 = Date.now();
      ac.abort();
      const r = await pending;
      assert.equal(r.status, 'cancelled');
      assert.ok(Date.now() - t0 < 5000, 'nix stopped on SIGTERM');
      assert.ok(!existsSync(join(dir, 'flake.lock')), 'no flake.lock left behind');
    } finally {
      server.close();
    }
  });

  it('cancelling an update when flake.lock exists leaves it byte for byte', async () => {
    const api = await extension();
    const { mkdtempSync, mkdirSync, existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const server = await neverAnswering();
    const dir = mkdtempSync(join(tmpdir(), 'nix-flakes-locked-'));
    const local = join(dir, 'local');
    mkdirSync(local);
    writeFileSync(join(local, 'data.txt'), 'local input\n');
    writeFileSync(
      join(dir, 'flake.nix'),
      `{\n  inputs.local = { url = "path:${local}"; flake = false; };\n  outputs = { self, local }: { };\n}\n`,
    );
    execFileSync('git', ['init', '-q'], { cwd: dir });
    execFileSync('git', ['add', '-A'], { cwd: dir });
    const folder = vscode.workspace.workspaceFolders![0];
    const flake = { uri: vscode.Uri.file(dir), folder, label: 'locked' };
    assert.equal((await api.inputs.update(flake, [])).status, 'updated', 'the first lock');
    const lock = readFileSync(join(dir, 'flake.lock'), 'utf8');
    // Then a second input that nix has to download, from a server that never answers.
    writeFileSync(
      join(dir, 'flake.nix'),
      `{\n  inputs.local = { url = "path:${local}"; flake = false; };\n  inputs.slow = { url = "${server.url}"; flake = false; };\n  outputs = { self, local, slow }: { };\n}\n`,
    );
    writeFileSync(join(local, 'data.txt'), 'local input, changed\n');
    const ac = new AbortController();
    try {
      const pending = api.inputs.update(flake, [], ac.signal);
      await until('nix to ask the server', () => server.asked() > 0, 30_000);
      ac.abort();
      const r = await pending;
      assert.equal(r.status, 'cancelled');
      assert.ok(existsSync(join(dir, 'flake.lock')));
      assert.equal(readFileSync(join(dir, 'flake.lock'), 'utf8'), lock, 'flake.lock as it was');
    } finally {
      server.close();
    }
  });
});

/** A git repository holding a flake with a `path:` input `local` (and `slow`, a download, when given its URL). */
async function tempFlake(name: string, opts: { slow?: string; commit?: boolean } = {}) {
  const { mkdtempSync, mkdirSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), `nix-flakes-${name}-`));
  const local = join(dir, 'local');
  mkdirSync(local);
  writeFileSync(join(local, 'data.txt'), 'one\n');
  const write = (slow?: string) =>
    writeFileSync(
      join(dir, 'flake.nix'),
      `{\n  inputs.local = { url = "path:${local}"; flake = false; };\n${slow ? `  inputs.slow = { url = "${slow}"; flake = false; };\n` : ''}  outputs = { self, local${slow ? ', slow' : ''} }: { };\n}\n`,
    );
  write();
  const env = { ...process.env, ...IDENTITY };
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir, env, encoding: 'utf8' }).trim();
  git('init', '-q');
  git('add', '-A');
  if (opts.commit) git('commit', '-qm', 'init');
  const folder = vscode.workspace.workspaceFolders![0];
  const flake = { uri: vscode.Uri.file(dir), folder, label: name };
  const lockPath = join(dir, 'flake.lock');
  return {
    dir,
    flake,
    lockPath,
    git,
    lock: () => readFileSync(lockPath, 'utf8'),
    /** Changes what the `local` input holds, so an update of it changes the lock. */
    moveLocal: (text: string) => writeFileSync(join(local, 'data.txt'), `${text}\n`),
    addSlow: () => write(opts.slow),
    removeSlow: () => write(),
  };
}

const IDENTITY = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };

/** Runs `body` with git's identity in the extension host's environment (as a user's git config would give it). */
async function withIdentity<T>(body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(IDENTITY).map((k) => [k, process.env[k]]));
  Object.assign(process.env, IDENTITY);
  try {
    return await body();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function withCommitLockFile<T>(body: () => Promise<T>): Promise<T> {
  const config = vscode.workspace.getConfiguration('nixFlakes');
  await config.update('inputs.commitLockFile', true, vscode.ConfigurationTarget.Global);
  try {
    return await withIdentity(body);
  } finally {
    await config.update('inputs.commitLockFile', undefined, vscode.ConfigurationTarget.Global);
  }
}

/** A git hook that says it started (a marker file) and then takes its time: nix waits for git, git for the hook. */
async function slowHook(dir: string, name: 'pre-commit' | 'post-commit'): Promise<string> {
  const { chmodSync } = await import('node:fs');
  const marker = join(dir, '.git', `${name}.started`);
  const hook = join(dir, '.git', 'hooks', name);
  writeFileSync(hook, `#!/bin/sh\ntouch '${marker}'\nexec sleep 30\n`);
  chmodSync(hook, 0o755);
  return marker;
}

describe('Flake Inputs: one update of a flake at a time', () => {
  it('a second update of the same flake waits for the first (and says so); another flake updates meanwhile', async () => {
    const api = await extension();
    const server = await neverAnswering();
    const a = await tempFlake('serial', { slow: server.url });
    const other = await tempFlake('serial-other');
    try {
      assert.equal((await api.inputs.update(a.flake, [])).status, 'updated', 'the first lock');
      assert.equal((await api.inputs.update(other.flake, [])).status, 'updated');
      // The first update needs the new input `slow`, from a server that never answers: it runs until cancelled.
      a.addSlow();
      const first = new AbortController();
      const running = api.inputs.update(a.flake, [], first.signal);
      await until('nix to ask the server', () => server.asked() > 0, 30_000);
      // The second update of that flake waits: it starts no nix of its own (which would ask the server again).
      const state: { second?: Awaited<typeof running> } = {};
      const waiting = api.inputs.update(a.flake, ['local']).then((r) => (state.second = r));
      // A third one gives up while waiting: nothing ran for it.
      const third = new AbortController();
      const givingUp = api.inputs.update(a.flake, ['local'], third.signal);
      // Another flake is not held up.
      other.moveLocal('two');
      const elsewhere = await api.inputs.update(other.flake, ['local']);
      assert.equal(elsewhere.status, 'updated', JSON.stringify(elsewhere));
      third.abort();
      const gaveUp = await givingUp;
      assert.equal(gaveUp.status, 'cancelled');
      assert.equal(gaveUp.lock, 'unchanged');
      assert.match(gaveUp.message ?? '', /before it started/);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(state.second, undefined, 'the second update is still waiting');
      assert.equal(server.asked(), 1, 'only the first update ran nix');
      // The first one is cancelled; the second then runs on what the first left (here: the lock as it was).
      a.removeSlow();
      a.moveLocal('two');
      const before = a.lock();
      first.abort();
      const r1 = await running;
      assert.equal(r1.status, 'cancelled');
      assert.equal(r1.lock, 'unchanged', JSON.stringify(r1));
      const second = await waiting;
      assert.equal(second.status, 'updated', JSON.stringify(second));
      assert.ok(
        second.summary.some((s) => s.startsWith('local: ')),
        JSON.stringify(second),
      );
      assert.notEqual(a.lock(), before);
    } finally {
      server.close();
    }
  });
});

describe('Flake Inputs: a cancel puts back only what it changed', () => {
  it('a lock edited by someone else while the update ran is left as it is, and the message names it', async () => {
    const api = await extension();
    const server = await neverAnswering();
    const t = await tempFlake('edited', { slow: server.url });
    try {
      assert.equal((await api.inputs.update(t.flake, [])).status, 'updated');
      t.addSlow();
      const ac = new AbortController();
      const pending = api.inputs.update(t.flake, [], ac.signal);
      await until('nix to ask the server', () => server.asked() > 0, 30_000);
      // Meanwhile: a manual edit (or git pull) of flake.lock.
      const edited = JSON.stringify(JSON.parse(t.lock()), null, 4);
      writeFileSync(t.lockPath, edited);
      ac.abort();
      const r = await pending;
      assert.equal(r.status, 'cancelled');
      assert.equal(r.lock, 'kept', JSON.stringify(r));
      assert.match(r.message ?? '', /flake\.lock changed while the update ran, not by it/);
      assert.ok(r.message?.includes(t.lockPath), r.message);
      assert.equal(t.lock(), edited, 'the edit is kept');
    } finally {
      server.close();
    }
  });

  it('commitLockFile: cancelled after Nix wrote flake.lock but before git committed it, the lock is put back and nothing is committed', async () => {
    const api = await extension();
    const { existsSync } = await import('node:fs');
    const t = await tempFlake('cancel-before-commit', { commit: true });
    await withCommitLockFile(async () => {
      assert.equal((await api.inputs.update(t.flake, [])).status, 'updated');
      const head = t.git('rev-parse', 'HEAD');
      const lock = t.lock();
      const marker = await slowHook(t.dir, 'pre-commit');
      t.moveLocal('two');
      const ac = new AbortController();
      const pending = api.inputs.update(t.flake, ['local'], ac.signal);
      await until('git to start the commit', () => existsSync(marker), 60_000);
      assert.notEqual(t.lock(), lock, 'Nix wrote the new lock');
      ac.abort();
      const r = await pending;
      assert.equal(r.status, 'cancelled');
      assert.equal(r.lock, 'restored', JSON.stringify(r));
      assert.equal(t.lock(), lock, 'flake.lock as it was');
      assert.equal(t.git('rev-parse', 'HEAD'), head, 'no commit');
      assert.equal(t.git('status', '--porcelain', 'flake.lock'), '', 'file and commit agree');
    });
  });

  it('commitLockFile: cancelled after git committed flake.lock, the update is kept so file and commit agree, and the message says so', async () => {
    const api = await extension();
    const { existsSync } = await import('node:fs');
    const t = await tempFlake('cancel-after-commit', { commit: true });
    await withCommitLockFile(async () => {
      assert.equal((await api.inputs.update(t.flake, [])).status, 'updated');
      const head = t.git('rev-parse', 'HEAD');
      const marker = await slowHook(t.dir, 'post-commit');
      t.moveLocal('two');
      const ac = new AbortController();
      const pending = api.inputs.update(t.flake, ['local'], ac.signal);
      await until('git to commit', () => existsSync(marker), 60_000);
      ac.abort();
      const r = await pending;
      assert.equal(r.status, 'cancelled');
      assert.equal(r.lock, 'committed', JSON.stringify(r));
      const commit = t.git('rev-parse', 'HEAD');
      assert.notEqual(commit, head);
      assert.match(
        r.message ?? '',
        new RegExp(`already committed \\S*flake\\.lock \\(commit ${commit.slice(0, 12)}.*git revert ${commit.slice(0, 12)}`),
      );
      assert.ok(
        r.summary.some((s) => s.startsWith('local: ')),
        JSON.stringify(r),
      );
      assert.equal(t.git('status', '--porcelain', 'flake.lock'), '', 'file and commit agree');
    });
  });
});
