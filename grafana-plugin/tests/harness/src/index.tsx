// Harness page for the browser test and the benchmark, which mounts the real
// MineMapPanel outside Grafana. It replaces Grafana in two places only: a
// backendSrv that calls the harness server with fetch, and the conversion of
// Prometheus query API results into data frames. Like Grafana's Prometheus
// data source, it returns one frame per series with labels on the value field.
import React, { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { flushSync } from 'react-dom';
import { from } from 'rxjs';
import {
  DataFrame,
  EventBusSrv,
  FieldType,
  LoadingState,
  PanelProps,
  createDataFrame,
  dateTime,
  getDefaultTimeRange,
} from '@grafana/data';
import { BackendSrv, setBackendSrv } from '@grafana/runtime';
import { MineMapPanel } from '../../../src/panels/minemap/components/MineMapPanel';
import { MineMapOptions } from '../../../src/panels/minemap/types';
import { mineQueries } from '../../../src/data/queries';
import { parsePlan } from '../../../src/geo/plan';
import { MinePlan } from '../../../src/geo/types';

const params = new URLSearchParams(window.location.search);
const mineId = params.get('mine') ?? '320382000101';
const width = Number(params.get('width') ?? 1200);
const height = Number(params.get('height') ?? 640);
const DS = '/api/datasources/proxy/uid/vm';

setBackendSrv({
  fetch: (options: { url: string; method?: string; data?: unknown }) =>
    from(
      window.fetch(options.url, { method: options.method ?? 'GET' }).then(async (r) => {
        const data = await r.json();
        if (!r.ok) {
          throw { status: r.status, data };
        }
        return {
          data,
          status: r.status,
          ok: true,
          statusText: r.statusText,
          headers: r.headers,
          redirected: false,
          type: r.type,
          url: r.url,
          config: options,
        };
      })
    ),
} as unknown as BackendSrv);

interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

/** Runs one instant query and returns its series as Grafana-shaped frames. */
async function instantQuery(refId: string, expr: string, time: number): Promise<DataFrame[]> {
  const url = `${DS}/api/v1/query?query=${encodeURIComponent(expr)}&time=${time / 1000}`;
  const r = await window.fetch(url);
  const body = await r.json();
  if (body.status !== 'success') {
    throw new Error(`query ${refId} (${expr}) failed: ${body.error ?? r.status}`);
  }
  return (body.data.result as PromSeries[]).map((s) =>
    createDataFrame({
      refId,
      fields: [
        { name: 'Time', type: FieldType.time, values: [s.value[0] * 1000] },
        { name: 'Value', type: FieldType.number, values: [parseFloat(s.value[1])], labels: s.metric },
      ],
    })
  );
}

const options: MineMapOptions = { mineId: '$mine', mode: 'map', staleAfterSeconds: 120, missingAfterSeconds: 900 };

function panelProps(series: DataFrame[], now: number): PanelProps<MineMapOptions> {
  const timeRange = { ...getDefaultTimeRange(), to: dateTime(now) };
  return {
    id: 1,
    data: { state: LoadingState.Done, series, timeRange },
    timeRange,
    timeZone: 'browser',
    options,
    fieldConfig: { defaults: {}, overrides: [] },
    transparent: false,
    width,
    height,
    renderCounter: 0,
    title: 'Mine map',
    eventBus: new EventBusSrv(),
    onOptionsChange: () => {},
    onFieldConfigChange: () => {},
    replaceVariables: (s: string) => s.replace('$mine', mineId),
    onChangeTimeRange: () => {},
  } as PanelProps<MineMapOptions>;
}

function QueryHarness() {
  const [series, setSeries] = useState<DataFrame[] | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    // ?time= sets the evaluation time (ISO 8601), as the end of a
    // dashboard's time range would.
    const t = params.get('time') ? Date.parse(params.get('time')!) : Date.now();
    Promise.all(mineQueries(mineId).map((q) => instantQuery(q.refId, q.expr, t)))
      .then((results) => {
        setNow(t);
        setSeries(results.flat());
        document.body.dataset.frames = String(results.flat().length);
        requestAnimationFrame(() => (document.body.dataset.loaded = '1'));
      })
      .catch((e) => setError(String(e)));
  }, []);

  if (error) {
    return <pre data-testid="harness-error">{error}</pre>;
  }
  if (!series) {
    return <div>querying…</div>;
  }
  return <MineMapPanel {...panelProps(series, now)} />;
}

// Benchmark mode: people spread along the plan's tunnels, moved on every
// update, delivered as the frames Grafana would deliver for the map's
// queries (three axis series and a fix time per card).
function syntheticFrames(plan: MinePlan, people: number, vehicles: number, step: number, now: number): DataFrame[] {
  const frames: DataFrame[] = [];
  const tunnels = plan.tunnels;
  const place = (i: number): [number, number, number] => {
    const t = tunnels[i % tunnels.length];
    const f = (((i * 0.618034 + step * 0.002) % 1) + 1) % 1;
    const [a, b] = [t.points[0], t.points[t.points.length - 1]];
    return [a[0] + (b[0] - a[0]) * f + ((i % 7) - 3), a[1] + (b[1] - a[1]) * f + ((i % 5) - 2), t.z];
  };
  const frame = (refId: string, labels: Record<string, string>, v: number) =>
    createDataFrame({
      refId,
      fields: [
        { name: 'Time', type: FieldType.time, values: [now] },
        { name: 'Value', type: FieldType.number, values: [v], labels },
      ],
    });
  for (let i = 0; i < people; i++) {
    const card = `${mineId}${String(i).padStart(5, '0')}`;
    const p = place(i);
    ['x', 'y', 'z'].forEach((axis, k) =>
      frames.push(frame('positions', { mine_id: mineId, card, axis, source: 'uwb' }, p[k]))
    );
    frames.push(frame('fix_time', { mine_id: mineId, card }, (now - (i % 300) * 1000) / 1000));
  }
  for (let i = 0; i < vehicles; i++) {
    const p = place(i * 13 + 5);
    ['x', 'y', 'z'].forEach((axis, k) =>
      frames.push(frame('vehicles', { mine_id: mineId, vehicle: `V${i}`, axis }, p[k]))
    );
  }
  return frames;
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function runBenchmark(root: ReturnType<typeof createRoot>) {
  const people = Number(params.get('people') ?? 5000);
  const vehicles = Number(params.get('vehicles') ?? 200);
  const updates = Number(params.get('updates') ?? 60);
  const r = await window.fetch(`/api/plugins/minewatch-minewatch-app/resources/plans/${mineId}`);
  const plan = parsePlan(await r.json(), mineId);
  const now = Date.now();
  const batches = Array.from({ length: updates + 5 }, (_, s) => syntheticFrames(plan, people, vehicles, s, now));

  flushSync(() => root.render(<MineMapPanel {...panelProps(batches[0], now)} />));
  await new Promise((res) => setTimeout(res, 500)); // plan fetch and first paint

  const times: number[] = [];
  const intervals: number[] = [];
  let last = performance.now();
  for (let s = 1; s < batches.length; s++) {
    await new Promise((res) => requestAnimationFrame(res));
    const frameStart = performance.now();
    intervals.push(frameStart - last);
    last = frameStart;
    const t0 = performance.now();
    flushSync(() => root.render(<MineMapPanel {...panelProps(batches[s], now)} />));
    const t1 = performance.now();
    if (s > 5) {
      times.push(t1 - t0); // the first updates warm up the JIT
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  const result = {
    people,
    vehicles,
    framesPerUpdate: batches[0].length,
    updates: times.length,
    medianMs: percentile(sorted, 0.5),
    p95Ms: percentile(sorted, 0.95),
    maxMs: sorted[sorted.length - 1],
    meanMs: times.reduce((a, b) => a + b, 0) / times.length,
    meanFrameIntervalMs: intervals.slice(6).reduce((a, b) => a + b, 0) / Math.max(1, intervals.length - 6),
    drawn: document.querySelector('[data-testid="minemap-canvas"]') !== null,
  };
  (window as unknown as { __bench: unknown }).__bench = result;
  document.body.dataset.bench = 'done';
}

const root = createRoot(document.getElementById('root')!);
if (params.get('bench')) {
  runBenchmark(root).catch((e) => {
    document.body.dataset.bench = 'failed';
    document.body.dataset.benchError = String(e);
  });
} else {
  root.render(<QueryHarness />);
}
