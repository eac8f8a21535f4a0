// Regenerates media/icon.png (128×128, the Marketplace and Open VSX icon) from its source media/icon.svg.
// Needs rsvg-convert (Debian/Ubuntu: apt-get install librsvg2-bin). The PNG is committed; packaging does not run this.
import { spawnSync } from 'node:child_process';

const r = spawnSync('rsvg-convert', ['--width', '128', '--height', '128', '--output', 'media/icon.png', 'media/icon.svg'], {
  stdio: 'inherit',
});
if (r.error) {
  console.error(`icon: rsvg-convert could not be started (${r.error.message}); install it: apt-get install librsvg2-bin`);
  process.exit(1);
}
process.exit(r.status ?? 1);
