// The in-host test entry: VS Code's extension host require()s this file and calls run(). CommonJS, bundled.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';
import { BEGIN_MARK, END_MARK } from '../harness/marks';
import type { NixFlakesApi } from '../../src/extension';
import { EXTENSION_ID } from './suite/helpers';

export function run(): Promise<void> {
  return runSuite(join(__dirname, 'suite'));
}

/** Runs the mocha files `*.test.js` of `dir` between the marks the harness reads. Shared by the in-host suites. */
export function runSuite(dir: string): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 120_000, reporter: 'spec', forbidOnly: true });
  // A failing test explains itself: the nix commands the extension ran during it, with the end of their stderr.
  let started = 0;
  mocha.suite.beforeEach(() => {
    started = Date.now();
  });
  mocha.suite.afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    const api = vscode.extensions.getExtension<NixFlakesApi>(EXTENSION_ID)?.exports;
    const runs = api?.recentRuns().filter((r) => r.startedAt >= started) ?? [];
    console.log(`    nix runs during "${this.currentTest.title}": ${runs.length ? '' : 'none'}`);
    for (const r of runs) {
      console.log(`      $ ${r.command}\n        → ${r.outcome}`);
      for (const l of r.stderrTail) console.log(`        | ${l.length > 400 ? `${l.slice(0, 400)}…` : l}`);
    }
  });
  const grep = process.env.NIX_FLAKES_TEST_GREP;
  if (grep) mocha.grep(grep);
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.test.js'))
    .sort())
    mocha.addFile(join(dir, f));
  console.log(BEGIN_MARK);
  return new Promise<void>((resolve, reject) => {
    try {
      mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} tests failed`)) : resolve()));
    } catch (e) {
      reject(e);
    }
  }).finally(() => console.log(END_MARK));
}
