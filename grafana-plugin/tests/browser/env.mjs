// Real servers for the browser test: VictoriaMetrics fed by mine-exporter
// from the sample national files, alerts from vmalert replaying the
// project's rules, the harness server with the plugin's real backend, and
// Debian's Chromium driven by playwright-core. Everything listens on
// 127.0.0.1 on free ports in a temporary folder.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PLUGIN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REPO = path.resolve(PLUGIN_DIR, '..');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls fn until it returns a truthy value or the deadline passes. */
export async function waitFor(description, fn, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) {
        return v;
      }
    } catch (e) {
      last = e;
    }
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${last ? `: ${last}` : ''}`);
}

function tool(name) {
  const p = path.join(REPO, '.tools', 'bin', name);
  if (!existsSync(p)) {
    throw new Error(`${p} is missing: run make deps (scripts/deps.sh) in ${REPO}`);
  }
  return p;
}

/** Starts a child process whose output goes to a log file in dir. */
function start(dir, name, cmd, args, opts = {}) {
  const log = path.join(dir, `${name}.log`);
  const out = [];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  child.stdout.on('data', (d) => out.push(d));
  child.stderr.on('data', (d) => out.push(d));
  child.on('exit', () => writeFileSync(log, Buffer.concat(out)));
  child.output = () => Buffer.concat(out).toString();
  return child;
}

export class Env {
  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), 'minemap-browser-'));
    this.children = [];
  }

  async startVictoriaMetrics() {
    const port = await freePort();
    this.vmURL = `http://127.0.0.1:${port}`;
    const vm = start(this.dir, 'victoria-metrics', tool('victoria-metrics'), [
      `-storageDataPath=${path.join(this.dir, 'vm')}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-retentionPeriod=100y',
      // The test queries data it has just written and past times it has
      // queried before: no latency offset, no result cache.
      '-search.latencyOffset=0s',
      '-search.disableCache',
    ]);
    this.children.push(vm);
    await waitFor('VictoriaMetrics to start', async () => (await fetch(`${this.vmURL}/health`)).ok, 30000);
  }

  /** Ingests the sample national files with the project's mine-exporter. */
  async ingestNationalSamples() {
    const inbox = path.join(this.dir, 'inbox');
    cpSync(path.join(REPO, 'deploy', 'local', 'samples', 'national'), inbox, { recursive: true });
    const exporter = path.join(this.dir, 'mine-exporter');
    execFileSync('go', ['build', '-o', exporter, './exporters/cmd/mine-exporter'], { cwd: REPO, stdio: 'inherit' });
    const port = await freePort();
    const config = path.join(this.dir, 'mine-exporter.yml');
    writeFileSync(
      config,
      [
        `listen_address: 127.0.0.1:${port}`,
        `registry: ${path.join(REPO, 'deploy', 'local', 'mines.yaml')}`,
        'victoriametrics:',
        `  url: ${this.vmURL}`,
        'national:',
        `  inbox: ${inbox}`,
        '',
      ].join('\n')
    );
    const child = start(this.dir, 'mine-exporter', exporter, ['--config', config]);
    this.children.push(child);

    const pending = () =>
      readdirSync(inbox)
        .filter((d) => /^[0-9]{12}$/.test(d))
        .flatMap((d) => readdirSync(path.join(inbox, d)).filter((f) => /\.txt$/i.test(f)));
    await waitFor('mine-exporter to ingest the sample inbox', () => pending().length === 0, 60000).catch((e) => {
      throw new Error(`${e.message}\nmine-exporter output:\n${child.output()}`);
    });
    if (existsSync(path.join(inbox, 'rejected')) && readdirSync(path.join(inbox, 'rejected')).length > 0) {
      throw new Error(`mine-exporter rejected sample files:\n${child.output()}`);
    }
    await fetch(`${this.vmURL}/internal/force_flush`);
  }

  /**
   * Evaluates the project's person rules over the sample data's time with
   * vmalert's replay mode, which writes ALERTS series to VictoriaMetrics as
   * live vmalert would. mine:labels is replayed first, in its own run, so
   * the alert rules can join on it.
   */
  replayRules(from, to) {
    for (const file of ['mine_labels.yml', 'persons.yml']) {
      execFileSync(
        tool('vmalert'),
        [
          `-rule=${path.join(REPO, 'rules', file)}`,
          `-datasource.url=${this.vmURL}`,
          `-remoteWrite.url=${this.vmURL}`,
          `-replay.timeFrom=${from}`,
          `-replay.timeTo=${to}`,
          '-replay.disableProgressBar',
          '-loggerLevel=ERROR',
        ],
        { stdio: 'pipe', timeout: 120000 }
      );
      execFileSync('curl', ['-s', `${this.vmURL}/internal/force_flush`]);
    }
  }

  async query(expr, timeISO) {
    const u = new URL(`${this.vmURL}/api/v1/query`);
    u.searchParams.set('query', expr);
    u.searchParams.set('time', String(Date.parse(timeISO) / 1000));
    const body = await (await fetch(u)).json();
    if (body.status !== 'success') {
      throw new Error(`query ${expr} failed: ${JSON.stringify(body)}`);
    }
    return body.data.result;
  }

  /** Builds and starts the harness server in front of VictoriaMetrics. */
  async startHarness() {
    execFileSync('npx', ['webpack', '-c', 'tests/harness/webpack.config.ts'], { cwd: PLUGIN_DIR, stdio: 'pipe' });
    const server = path.join(this.dir, 'harness');
    execFileSync('go', ['build', '-o', server, './tests/harness/server'], { cwd: PLUGIN_DIR, stdio: 'inherit' });
    const port = await freePort();
    const child = start(this.dir, 'harness', server, [
      `-listen=127.0.0.1:${port}`,
      `-static=${path.join(PLUGIN_DIR, 'dist-harness')}`,
      `-plans=${path.join(REPO, 'deploy', 'local', 'plans')}`,
      `-prometheus=${this.vmURL}`,
    ]);
    this.children.push(child);
    this.harnessURL = `http://127.0.0.1:${port}`;
    await waitFor('the harness server', async () => (await fetch(`${this.harnessURL}/index.html`)).ok, 30000);
  }

  async launchBrowser() {
    const { chromium } = await import('playwright-core');
    this.browser = await chromium.launch({ executablePath: CHROMIUM, headless: false, args: CHROMIUM_ARGS });
    return this.browser;
  }

  async stop() {
    await this.browser?.close().catch(() => {});
    for (const c of this.children.reverse()) {
      if (c.exitCode === null) {
        c.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => {
            c.kill('SIGKILL');
            r();
          }, 10000);
          c.once('exit', () => {
            clearTimeout(t);
            r();
          });
        });
      }
    }
    if (!process.env.KEEP_TEST_DIR) {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** Returns the underground cards (flag 1) of a mine's newest RYSS sample file: card, area, station. */
export function ryssUnderground(mineId) {
  const dir = path.join(REPO, 'deploy', 'local', 'samples', 'national', mineId);
  const newest = readdirSync(dir)
    .filter((f) => f.includes('_RYSS_'))
    .sort()
    .pop();
  const text = readFileSync(path.join(dir, newest), 'utf8').replace(/^\ufeff/, '');
  const records = text
    .split('~')
    .slice(1)
    .map((r) => r.trim())
    .filter((r) => r && r !== '||');
  return records
    .map((r) => r.split(';'))
    .filter((f) => f[2] === '1')
    .map((f) => ({ card: f[0], area: f[5], station: f[7] }));
}
