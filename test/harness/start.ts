// The product, running: code-server on 127.0.0.1 with this extension loaded (as a development extension, so a
// rebuild and "Developer: Reload Window" pick up changes) on a copy of the bundled example flake.
import { resolve } from 'node:path';
import { launchBrowser, startCodeServer } from './codeserver';
import { copyFixture, nixConfig, repoRoot } from '../support/nix';

async function main() {
  const argv = process.argv.slice(2);
  const shotIdx = argv.indexOf('--screenshot');
  const screenshot = shotIdx >= 0 ? argv[shotIdx + 1] : undefined;
  const root = repoRoot();
  const example = copyFixture('hello');
  const server = await startCodeServer({
    port: Number(process.env.PORT ?? 8080),
    // The example needs nothing from the network: unless NIX_CONFIG says otherwise, nix runs offline.
    env: { NIX_CONFIG: process.env.NIX_CONFIG ?? nixConfig() },
  });
  const url = server.workbenchUrl(example, [
    ['extensionDevelopmentPath', server.remoteUri(root)],
    ['skipWelcome', 'true'],
  ]);
  console.log(`\nNix Flakes is running in VS Code (code-server 4.100.3) on the example flake ${example}\n`);
  console.log(`  Open: ${url}\n`);
  console.log('Press Ctrl+C to stop.');
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (screenshot) {
    const browser = await launchBrowser(server.runDir);
    await browser.page.goto(url);
    await browser.page
      .locator('.part.activitybar .action-item a[aria-label^="Nix"], .part.activitybar .action-label[aria-label^="Nix"]')
      .first()
      .click({ timeout: 60_000 });
    await browser.page.waitForTimeout(4000);
    await browser.page.screenshot({ path: screenshot });
    console.log(`screenshot: ${resolve(screenshot)}`);
    await browser.close();
    await stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
