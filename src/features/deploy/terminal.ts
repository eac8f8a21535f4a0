// Terminal steps of a deployment (activation, and with sudo the profile change): run in a terminal of the editor so
// that sudo's and ssh's prompts reach the user and the output stays visible, through the gateway (ctx.openTerminal:
// the trust check and the log). The terminal runs dist/deploy-terminal.js (terminalChild.ts), which runs the step's
// program without a shell and reports its exit code and output through two files of a private temporary folder.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ctx } from '../../context';
import type { Command } from '../../core/deploy';
import { displayCommand, NIX_CONFIG_ENV } from '../../core/nix/args';

/** The environment of the extension's nix runs that a terminal step needs too (terminals start from the user's shell). */
const PASSED_ENV = ['PATH', ...NIX_CONFIG_ENV, 'NIX_SSHOPTS', 'SSH_AUTH_SOCK'];

/** The last bytes of the output that are read back (the terminal shows all of it). */
const OUTPUT_TAIL = 256 * 1024;

async function tail(file: string): Promise<string> {
  const h = await open(file, 'r').catch(() => undefined);
  if (!h) return '';
  try {
    const { size } = await h.stat();
    const start = Math.max(0, size - OUTPUT_TAIL);
    const buf = Buffer.alloc(size - start);
    await h.read(buf, 0, buf.length, start);
    return buf.toString('utf8');
  } finally {
    await h.close();
  }
}

export interface TerminalRun {
  exitCode: number;
  output: string[];
}

/**
 * Runs `cmd` in a new terminal named `name` and resolves when it ends: with its exit code and output (the status file
 * written by the terminal's program), or exit code 130 when the user closed the terminal before it ended.
 */
export async function runInTerminal(ctx: Ctx, cmd: Command, name: string, focus: boolean): Promise<TerminalRun> {
  const dir = await mkdtemp(join(tmpdir(), 'nix-flakes-deploy-'));
  const status = join(dir, 'status');
  const output = join(dir, 'output');
  const env: Record<string, string> = { ELECTRON_RUN_AS_NODE: '1' };
  for (const k of PASSED_ENV) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  Object.assign(env, cmd.env ?? {});
  ctx.log.info(`deploy: in a terminal: ${displayCommand(cmd.file, cmd.args)}`);
  try {
    const terminal = ctx.openTerminal({
      name,
      shellPath: process.execPath,
      shellArgs: [join(ctx.extension.extensionPath, 'dist', 'deploy-terminal.js'), status, output, cmd.file, ...cmd.args],
      env,
      iconPath: new vscode.ThemeIcon('rocket'),
    });
    terminal.show(!focus);
    const exitCode = await new Promise<number>((resolve) => {
      let done = false;
      const finish = (code: number) => {
        if (done) return;
        done = true;
        clearInterval(timer);
        closed.dispose();
        resolve(code);
      };
      const timer = setInterval(() => {
        if (!existsSync(status)) return;
        void readFile(status, 'utf8').then(
          (t) => {
            const v = JSON.parse(t) as { exitCode?: unknown };
            finish(typeof v.exitCode === 'number' ? v.exitCode : 1);
          },
          () => undefined,
        );
      }, 100);
      const closed = vscode.window.onDidCloseTerminal((t) => {
        if (t !== terminal) return;
        // The status may have been written just before the close: read it once more.
        setTimeout(() => {
          if (done) return;
          void readFile(status, 'utf8').then(
            (x) => {
              const code = (JSON.parse(x) as { exitCode?: unknown }).exitCode;
              finish(typeof code === 'number' ? code : 1);
            },
            () => finish(t.exitStatus?.code ?? 130),
          );
        }, 200);
      });
    });
    const text = await tail(output);
    return { exitCode, output: text.split(/\r?\n/).filter((l, i, a) => l !== '' || i < a.length - 1) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
