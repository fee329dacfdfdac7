// Browser test of the mine map panel: the real panel components in Debian's
// Chromium, fed by a real VictoriaMetrics that mine-exporter filled from the
// sample national files and vmalert's replay of the project's rules.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Env, PLUGIN_DIR, ryssUnderground, waitFor } from './env.mjs';

const MINE = '320382000101';
const SHUTDOWN_MINE = '320382000202';
// The newest RYSS of mine 320382000101 has data time 22:15 China Standard
// Time: the map is looked at a minute later, the rescue list half an hour
// after positioning data stopped arriving.
const MAP_TIME = '2026-11-20T14:16:00Z';
const RESCUE_TIME = '2026-11-20T14:45:00Z';
const OUT = path.join(PLUGIN_DIR, 'test-results');

const env = new Env();
let browser;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  await env.startVictoriaMetrics();
  await env.ingestNationalSamples();
  env.replayRules('2026-11-20T13:55:00Z', '2026-11-20T14:50:00Z');
  await env.startHarness();
  browser = await env.launchBrowser();
});

after(async () => {
  await env.stop();
});

async function openPanel(mine, time) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, acceptDownloads: true });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${env.harnessURL}/index.html?mine=${mine}&time=${time}&width=1240&height=660`);
  await waitFor('the harness to load its queries', async () => {
    const err = await page.locator('[data-testid=harness-error]').count();
    if (err > 0) {
      throw new Error(await page.locator('[data-testid=harness-error]').innerText());
    }
    return (await page.locator('body[data-loaded="1"]').count()) > 0;
  });
  await page.locator('[data-testid=minemap-canvas]').waitFor();
  page.errors = errors;
  return page;
}

/** Searches a card and returns its pinned tooltip's card, area and marker position. */
async function findCard(page, card) {
  const search = page.getByTestId('minemap-search');
  await search.fill(card);
  await search.press('Enter');
  const tooltip = page.getByTestId('minemap-tooltip');
  await waitFor(
    `the tooltip of card ${card}`,
    async () => (await tooltip.count()) > 0 && (await page.getByTestId('tooltip-card').innerText()) === card,
    10000
  );
  return {
    area: await page.getByTestId('tooltip-area').innerText(),
    age: await page.getByTestId('tooltip-age').innerText(),
    x: Number(await tooltip.getAttribute('data-x')),
    y: Number(await tooltip.getAttribute('data-y')),
  };
}

async function pixelAt(page, x, y) {
  return page.evaluate(
    ([x, y]) => {
      const c = document.querySelector('[data-testid=minemap-canvas]');
      const dpr = window.devicePixelRatio || 1;
      return Array.from(c.getContext('2d').getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data);
    },
    [x, y]
  );
}

describe('mine map panel', () => {
  it('colours areas by persons against limit and firing alerts', async () => {
    const page = await openPanel(MINE, MAP_TIME);
    const cards = ryssUnderground(MINE);
    const atFace = cards.filter((c) => c.area === '3203820001010004').length;

    const face = page.locator('[data-area="3203820001010004"]');
    assert.equal(await face.getAttribute('data-status'), 'violation');
    assert.match(await face.innerText(), new RegExp(`${atFace} / 16`));
    assert.match(await face.innerText(), /overcrowding_area/);

    const goaf = page.locator('[data-area="3203820001010012"]');
    assert.equal(await goaf.getAttribute('data-status'), 'violation');
    assert.match(await goaf.innerText(), /restricted_area/);

    const heading = page.locator('[data-area="3203820001010005"]');
    assert.equal(await heading.getAttribute('data-status'), 'normal');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('draws every underground card in its RYSS area', async () => {
    const page = await openPanel(MINE, MAP_TIME);
    const cards = ryssUnderground(MINE);
    assert.ok(cards.length > 20, `only ${cards.length} underground cards in the sample`);
    for (const c of cards) {
      const found = await findCard(page, c.card);
      assert.ok(found.area.endsWith(`(${c.area})`), `card ${c.card}: tooltip area ${found.area}, RYSS area ${c.area}`);
      assert.equal(found.age, '1 min 00 s', `card ${c.card} last fix age`);
      const [r, g, b] = await pixelAt(page, found.x, found.y);
      assert.deepEqual([r, g, b], [50, 116, 217], `card ${c.card}: pixel at its marker is not the live person colour`);
    }
    await page.screenshot({ path: path.join(OUT, 'minemap-search.png') });
    await page.close();
  });

  it('shows a tooltip on hover', async () => {
    const page = await openPanel(MINE, MAP_TIME);
    const card = ryssUnderground(MINE).find((c) => c.area === '3203820001010012').card;
    const found = await findCard(page, card);

    const search = page.getByTestId('minemap-search');
    await search.fill('');
    await search.press('Enter');
    await waitFor(
      'the pinned tooltip to close',
      async () => (await page.getByTestId('minemap-tooltip').count()) === 0,
      10000
    );

    const box = await page.getByTestId('minemap-canvas').boundingBox();
    await page.mouse.move(box.x + found.x, box.y + found.y);
    await page.getByTestId('minemap-tooltip').waitFor({ timeout: 10000 });
    assert.equal(await page.getByTestId('tooltip-card').innerText(), card);
    assert.match(await page.getByTestId('tooltip-area').innerText(), /3203820001010012/);
    assert.match(await page.getByTestId('minemap-tooltip').innerText(), /Underground: \d/);
    await page.close();
  });

  it('zooms, pans and fits', async () => {
    const page = await openPanel(MINE, MAP_TIME);
    const scale = page.locator('[data-testid=minemap-scale] span');
    const initial = await scale.innerText();
    const metres = (s) => (s.endsWith(' km') ? parseFloat(s) * 1000 : parseFloat(s));

    await page.getByRole('button', { name: 'Zoom in' }).click();
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await page.getByRole('button', { name: 'Zoom in' }).click();
    const zoomed = await scale.innerText();
    assert.ok(metres(zoomed) < metres(initial), `scale bar ${zoomed} after zooming in from ${initial}`);

    const box = await page.getByTestId('minemap-canvas').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, 1500);
    await waitFor('the wheel to zoom out', async () => metres(await scale.innerText()) > metres(zoomed), 10000);

    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 100, box.y + box.height / 2 + 40, { steps: 5 });
    await page.mouse.up();

    await page.getByRole('button', { name: 'Fit' }).click();
    assert.equal(await scale.innerText(), initial);
    await page.screenshot({ path: path.join(OUT, 'minemap.png') });
    await page.close();
  });

  it('switches level to find a card', async () => {
    const page = await openPanel(MINE, MAP_TIME);
    await page.getByRole('radio', { name: '-450水平' }).check();
    assert.equal(await page.getByRole('radio', { name: '-450水平' }).isChecked(), true);
    const card = ryssUnderground(MINE).find((c) => c.area === '3203820001010004').card;
    await findCard(page, card);
    assert.equal(await page.getByRole('radio', { name: '-430水平' }).isChecked(), true);
    await page.close();
  });

  it('draws fixes as stale once data stops', async () => {
    const page = await openPanel(MINE, RESCUE_TIME);
    const card = ryssUnderground(MINE)[0].card;
    const found = await findCard(page, card);
    assert.equal(found.age, '30 min 00 s');
    assert.match(await page.getByTestId('minemap-tooltip').innerText(), /\(stale\)/);
    const [r, g, b] = await pixelAt(page, found.x, found.y);
    assert.notDeepEqual([r, g, b], [50, 116, 217], 'a stale card is drawn as a live one');
    await page.close();
  });
});

describe('rescue list', () => {
  for (const [mine, age] of [
    [MINE, '30 min'],
    [SHUTDOWN_MINE, '35 min'],
  ]) {
    it(`lists everyone last seen underground at mine ${mine} after data stopped`, async () => {
      const page = await openPanel(mine, RESCUE_TIME);
      await page.getByRole('radio', { name: 'Rescue' }).check();
      const rows = page.locator('[data-testid=rescue-table] tbody tr');
      await rows.first().waitFor();

      const expected = ryssUnderground(mine);
      const underground = await env.query(
        `last_over_time(mine_underground_persons{mine_id="${mine}"}[1h])`,
        RESCUE_TIME
      );
      assert.equal(Number(underground[0].value[1]), expected.length, 'the exporter and the sample file disagree');
      assert.equal(await rows.count(), expected.length);
      assert.equal(await page.getByTestId('rescue-count').innerText(), String(expected.length));

      const listed = await rows.evaluateAll((trs) =>
        trs.map((tr) => ({
          card: tr.dataset.card,
          area: tr.querySelector('[data-col=area]').textContent,
          station: tr.querySelector('[data-col=station]').textContent,
          age: tr.querySelector('[data-col=age]').textContent,
        }))
      );
      const areaOf = new Map(expected.map((c) => [c.card, c]));
      for (const row of listed) {
        const want = areaOf.get(row.card);
        assert.ok(want, `card ${row.card} is listed but not underground in the sample`);
        assert.ok(row.area.includes(want.area), `card ${row.card}: listed area ${row.area}, RYSS area ${want.area}`);
        assert.ok(
          row.station.includes(want.station),
          `card ${row.card}: listed station ${row.station}, RYSS station ${want.station}`
        );
        assert.ok(row.age.startsWith(age), `card ${row.card}: age ${row.age}, expected ${age}`);
        assert.ok(row.age.includes('stale'), `card ${row.card}: age ${row.age} is not marked stale`);
      }
      const sorted = await page.evaluate(
        (names) => names.every((n, i) => i === 0 || names[i - 1].localeCompare(n) <= 0),
        listed.map((r) => r.area.split(' ')[0])
      );
      assert.ok(sorted, `rows are not sorted by area: ${listed.map((r) => r.area).join(' | ')}`);

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('rescue-csv').click()]);
      const csv = readFileSync(await download.path(), 'utf8').replace(/^\ufeff/, '');
      const lines = csv.trim().split('\r\n');
      assert.equal(lines.length, expected.length + 1);
      assert.match(lines[0], /^mine_id,card,area_code,area_name,area_type,station_code,/);
      for (const c of expected) {
        assert.ok(
          lines.some((l) => l.startsWith(`${mine},${c.card},${c.area},`)),
          `CSV has no row for card ${c.card} in area ${c.area}`
        );
      }
      await page.screenshot({ path: path.join(OUT, `rescue-${mine}.png`) });
      await page.close();
    });
  }
});
