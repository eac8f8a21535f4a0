// Runs every built benchmark (out/bench/*.bench.js) one after another; each prints its own ratios.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const dir = 'out/bench';
let failed = 0;
for (const f of readdirSync(dir).filter((f) => f.endsWith('.bench.js')).sort()) {
  const r = spawnSync(process.execPath, [`${dir}/${f}`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
