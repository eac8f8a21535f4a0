// The program a deployment's terminal runs (bundled to dist/deploy-terminal.js, started by ctx.openTerminal with the
// extension host's node): `deploy-terminal.js <status file> <output file> <program> <args…>`. It runs the program
// with the terminal as its input (sudo and ssh prompts reach the user), shows its output in the terminal and keeps a
// copy, writes the exit code to the status file when it ends, and keeps the terminal open until a key is pressed so
// the output stays visible. No shell: the program and its arguments are passed as they are.
import { spawn } from 'node:child_process';
import { closeSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';

const MAX_OUTPUT = 4 * 1024 * 1024;

function main(): void {
  const [statusFile, outputFile, file, ...args] = process.argv.slice(2);
  if (!statusFile || !outputFile || !file) {
    process.stderr.write('usage: deploy-terminal <status file> <output file> <program> [args…]\n');
    process.exit(2);
  }
  const out = openSync(outputFile, 'w', 0o600);
  let written = 0;
  const keep = (chunk: Buffer) => {
    if (written >= MAX_OUTPUT) return;
    const part = chunk.subarray(0, MAX_OUTPUT - written);
    written += part.length;
    writeSync(out, part);
  };
  let finished = false;
  const finish = (code: number, note?: string) => {
    if (finished) return;
    finished = true;
    if (note) keep(Buffer.from(`${note}\n`));
    closeSync(out);
    writeFileSync(`${statusFile}.tmp`, JSON.stringify({ exitCode: code }));
    renameSync(`${statusFile}.tmp`, statusFile);
    process.stdout.write(
      `\r\n${note ? `${note}\r\n` : ''}[${code === 0 ? 'done' : `exit code ${code}`}] Press any key to close this terminal.\r\n`,
    );
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      process.stdin.resume();
      process.stdin.once('data', () => process.exit(code));
    } else process.exit(code);
  };
  const child = spawn(file, args, { stdio: ['inherit', 'pipe', 'pipe'] });
  child.stdout.on('data', (d: Buffer) => {
    process.stdout.write(d);
    keep(d);
  });
  child.stderr.on('data', (d: Buffer) => {
    process.stderr.write(d);
    keep(d);
  });
  child.on('error', (e) => finish(127, `${file} could not be started: ${e.message}`));
  child.on('close', (code, signal) => finish(code ?? 128, signal ? `${file} was stopped by ${signal}` : undefined));
}

main();
