// Measures how long the mine map panel takes to update with 5,000 people
// and 200 vehicles in Chromium. Each update hands the real MineMapPanel a
// new set of frames, shaped as the Prometheus data source delivers them
// (three axis series and a fix time per card). The time covers the
// synchronous React render, which reads the frames and redraws both canvases.
//
//   node tests/browser/bench.mjs [people] [vehicles] [updates]
import { Env } from './env.mjs';

const [people = 5000, vehicles = 200, updates = 60] = process.argv.slice(2).map(Number);
const env = new Env();
try {
  // The benchmark makes up its data; the data source proxy is unused.
  env.vmURL = 'http://127.0.0.1:9';
  await env.startHarness();
  const browser = await env.launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(
    `${env.harnessURL}/index.html?bench=1&mine=320382000101&people=${people}&vehicles=${vehicles}&updates=${updates}&width=1240&height=660`
  );
  await page.waitForSelector('body[data-bench]', { timeout: 300000 });
  if ((await page.getAttribute('body', 'data-bench')) !== 'done') {
    throw new Error(`benchmark failed: ${await page.getAttribute('body', 'data-bench-error')}`);
  }
  const result = await page.evaluate(() => window.__bench);
  result.chromium = browser.version();
  console.log(JSON.stringify(result, null, 2));
} finally {
  await env.stop();
}
