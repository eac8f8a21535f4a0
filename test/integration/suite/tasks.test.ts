import * as assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extension, fixture, flakeOf, lineOf, nixDiagnostics, settled, until } from './helpers';

async function checksTasks(): Promise<vscode.Task[]> {
  await settled(await flakeOf('checks'));
  const all = await vscode.tasks.fetchTasks({ type: 'nix' });
  return all.filter((t) => typeof t.scope === 'object' && t.scope.uri.fsPath === fixture('checks'));
}

/** Runs a task and waits for the extension to report it finished. */
async function runTask(task: vscode.Task) {
  const api = await extension();
  const before = api.tasks.runs.length;
  const finished = new Promise<vscode.TaskProcessEndEvent | vscode.TaskEndEvent>((resolve) => {
    const sub = vscode.tasks.onDidEndTask((e) => {
      if (e.execution.task.name === task.name) {
        sub.dispose();
        resolve(e);
      }
    });
  });
  await vscode.tasks.executeTask(task);
  await finished;
  return until(`the run of ${task.name}`, () => api.tasks.runs.slice(before).find((r) => r.name === task.name), 120_000);
}

describe('Nix tasks', () => {
  it('tasks are offered per buildable output, per check and per flake', async () => {
    const names = (await checksTasks()).map((t) => t.name).sort();
    for (const n of ['build .#hello', 'build .#checks.x86_64-linux.fails', 'build .#checks.x86_64-linux.passes', 'flake check'])
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    const check = (await checksTasks()).find((t) => t.name === 'build .#checks.x86_64-linux.fails')!;
    assert.equal(check.group?.id, vscode.TaskGroup.Test.id);
    assert.equal(check.source, 'nix');
  });

  it('a passing task exits 0; a failing one reports its exit code and its error reaches Problems at the workspace file', async () => {
    const tasks = await checksTasks();
    const ok = await runTask(tasks.find((t) => t.name === 'build .#checks.x86_64-linux.passes')!);
    assert.equal(ok.exitCode, 0);
    assert.match(ok.command, /^nix build --no-write-lock-file .*#checks\.x86_64-linux\.passes$/);
    const failed = await runTask(tasks.find((t) => t.name === 'build .#checks.x86_64-linux.fails')!);
    assert.equal(failed.exitCode, 1);
    const file = join(fixture('checks'), 'flake.nix');
    assert.ok(
      failed.problems.some((p) => p.uri.fsPath === file && p.line === lineOf(file, 'fails = sh')),
      JSON.stringify(failed.problems),
    );
    const d = await until('the problem in flake.nix', () => nixDiagnostics(file));
    assert.ok(
      d.some((x) => /check-fails/.test(x.message)),
      d.map((x) => x.message).join(' | '),
    );
  });

  it('a task written by hand in tasks.json runs the same', async () => {
    const dir = fixture('checks');
    mkdirSync(join(dir, '.vscode'), { recursive: true });
    writeFileSync(
      join(dir, '.vscode', 'tasks.json'),
      JSON.stringify({
        version: '2.0.0',
        tasks: [{ label: 'hand-written hello', type: 'nix', command: 'build', installable: '.#hello', args: ['-L'] }],
      }),
    );
    try {
      const task = await until(
        'the hand-written task',
        async () => (await vscode.tasks.fetchTasks({ type: 'nix' })).find((t) => t.name === 'hand-written hello'),
        30_000,
      );
      const run = await runTask(task);
      assert.equal(run.exitCode, 0);
      assert.match(run.command, /^nix build --no-write-lock-file .*#hello -L$/);
    } finally {
      rmSync(join(dir, '.vscode'), { recursive: true, force: true });
    }
  });
});
