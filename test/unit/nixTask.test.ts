import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkTaskDefinition, TASK_COMMANDS, taskInvocation, taskLabel } from '../../src/core/nix/task';
import { repoRoot } from '../support/nix';

test('a nix task definition is checked: command, installable, args, writeLockFile, flake', () => {
  assert.deepEqual(checkTaskDefinition({ type: 'nix', command: 'build', installable: '.#hello' }), {
    ok: true,
    value: { type: 'nix', command: 'build', installable: '.#hello' },
  });
  assert.deepEqual(checkTaskDefinition({ type: 'nix', command: ' flake   check ' }), {
    ok: true,
    value: { type: 'nix', command: 'flake check' },
  });
  assert.deepEqual(
    checkTaskDefinition({ type: 'nix', command: 'develop', args: ['--command', 'make'], writeLockFile: true, flake: 'sub/' }),
    {
      ok: true,
      value: { type: 'nix', command: 'develop', args: ['--command', 'make'], writeLockFile: true, flake: 'sub' },
    },
  );
  assert.deepEqual(checkTaskDefinition({ type: 'nix', command: 'build', flake: '.' }), {
    ok: true,
    value: { type: 'nix', command: 'build' },
  });
  const bad: unknown[] = [
    undefined,
    null,
    [],
    'build',
    { type: 'shell', command: 'build' },
    { type: 'nix' },
    { type: 'nix', command: 'repl' },
    { type: 'nix', command: 'build; rm -rf /' },
    { type: 'nix', command: 'build', installable: '--option' },
    { type: 'nix', command: 'build', installable: '.#a b' },
    { type: 'nix', command: 'build', installable: 3 },
    { type: 'nix', command: 'fmt', installable: '.#x' },
    { type: 'nix', command: 'build', args: '--impure' },
    { type: 'nix', command: 'build', args: ['ok', 1] },
    { type: 'nix', command: 'build', writeLockFile: 'yes' },
    { type: 'nix', command: 'build', flake: '../elsewhere' },
    { type: 'nix', command: 'build', flake: '/abs' },
    { type: 'nix', command: 'build', flake: 'a/../../b' },
  ];
  for (const d of bad) {
    const r = checkTaskDefinition(d);
    assert.equal(r.ok, false, JSON.stringify(d));
    if (!r.ok) assert.ok(r.message.length > 10);
  }
});

test("a task's command line: installables relative to the flake, args last, the lock file left alone by default", () => {
  const ref = 'git+file:///src/repo?dir=sub';
  assert.deepEqual(taskInvocation({ type: 'nix', command: 'build', installable: '.#hello' }, ref), {
    subcommand: ['build'],
    rest: [`${ref}#hello`],
    writeLockFile: false,
    dropped: [],
  });
  assert.deepEqual(taskInvocation({ type: 'nix', command: 'build', installable: '#checks.x86_64-linux.fails' }, ref).rest, [
    `${ref}#checks.x86_64-linux.fails`,
  ]);
  assert.deepEqual(taskInvocation({ type: 'nix', command: 'build' }, ref).rest, [ref]);
  assert.deepEqual(taskInvocation({ type: 'nix', command: 'build', installable: '.' }, ref).rest, [ref]);
  assert.deepEqual(taskInvocation({ type: 'nix', command: 'run', installable: 'nixpkgs#hello', args: ['--', '-g', 'hi'] }, ref).rest, [
    'nixpkgs#hello',
    '--',
    '-g',
    'hi',
  ]);
  const check = taskInvocation({ type: 'nix', command: 'flake check', args: ['--no-build'] }, ref);
  assert.deepEqual(check, { subcommand: ['flake', 'check'], rest: [ref, '--no-build'], writeLockFile: false, dropped: [] });
  assert.equal(taskInvocation({ type: 'nix', command: 'build', writeLockFile: true }, ref).writeLockFile, true);
  // Locking and updating write flake.lock unless the task says not to; update names inputs, not the flake.
  assert.deepEqual(taskInvocation({ type: 'nix', command: 'flake update', args: ['nixpkgs'] }, ref), {
    subcommand: ['flake', 'update'],
    rest: ['nixpkgs'],
    writeLockFile: true,
    dropped: [],
  });
  assert.equal(taskInvocation({ type: 'nix', command: 'flake lock', writeLockFile: false }, ref).writeLockFile, false);
  // Options that would accept the flake's configuration are dropped, and said.
  const r = taskInvocation({ type: 'nix', command: 'build', args: ['--accept-flake-config', '-L'] }, ref);
  assert.deepEqual(r.rest, [ref, '-L']);
  assert.deepEqual(r.dropped, ['--accept-flake-config']);
  assert.equal(taskLabel({ command: 'build', installable: '.#hello' }), 'build .#hello');
  assert.equal(taskLabel({ command: 'flake check' }, 'repo/sub'), 'flake check (repo/sub)');
});

test("package.json's task definition offers exactly the commands the core accepts", () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as {
    contributes: { taskDefinitions: { type: string; properties: { command: { enum: string[] } } }[] };
    activationEvents: string[];
  };
  const def = pkg.contributes.taskDefinitions.find((d) => d.type === 'nix');
  assert.deepEqual([...(def?.properties.command.enum ?? [])].sort(), [...TASK_COMMANDS].sort());
  assert.ok(pkg.activationEvents.includes('onTaskType:nix'));
});
