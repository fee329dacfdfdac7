import React, { useEffect, useMemo, useRef, useState } from 'react';
import { css } from '@emotion/css';
import { DataFrame, DataFrameJSON, GrafanaTheme2, dataFrameFromJSON } from '@grafana/data';
import { DataSourcePicker, PluginPage, getBackendSrv } from '@grafana/runtime';
import { Alert, Button, Combobox, Field, Stack, useStyles2 } from '@grafana/ui';
import { lastValueFrom } from 'rxjs';
import { readFrames } from '../data/frames';
import { DEFAULT_FRESHNESS } from '../data/rescue';
import { Flavour, mineQueries } from '../data/queries';
import { MineView } from '../panels/minemap/components/MineView';
import { usePlan } from '../panels/minemap/usePlan';
import { usePlanList } from './usePlanList';

interface QueryResponse {
  results: Record<string, { frames?: DataFrameJSON[]; error?: string }>;
}

/**
 * Runs the map's queries against a Prometheus-compatible data source through
 * Grafana's query API and returns the frames tagged with their refIds.
 */
async function runQueries(dsUid: string, flavour: Flavour, mineId: string): Promise<DataFrame[]> {
  const queries = mineQueries(mineId, '12h', flavour).map((q) => ({
    refId: q.refId,
    expr: q.expr,
    instant: true,
    range: false,
    datasource: { uid: dsUid },
  }));
  const resp = await lastValueFrom(
    getBackendSrv().fetch<QueryResponse>({
      url: '/api/ds/query',
      method: 'POST',
      data: { queries, from: 'now-5m', to: 'now' },
      showErrorAlert: false,
    })
  );
  const frames: DataFrame[] = [];
  for (const [refId, result] of Object.entries(resp.data.results)) {
    if (result.error) {
      throw new Error(`query ${refId} failed: ${result.error}`);
    }
    for (const f of result.frames ?? []) {
      frames.push({ ...dataFrameFromJSON(f), refId });
    }
  }
  return frames;
}

/** App page: pick a mine and a data source, see the rescue list or the map. */
function RescuePage() {
  const styles = useStyles2(getStyles);
  const { plans, error: listError } = usePlanList();
  const [chosenMine, setMineId] = useState<string>('');
  const mineId = chosenMine || (plans.find((p) => !p.error)?.mine_id ?? '');
  const [ds, setDs] = useState<{ uid: string; type: string } | undefined>();
  const [frames, setFrames] = useState<DataFrame[]>([]);
  const [queryError, setQueryError] = useState<string | undefined>();
  const [now, setNow] = useState(() => Date.now());
  const planState = usePlan(mineId);
  const viewRef = useRef<HTMLDivElement>(null);
  const size = useElementSize(viewRef);

  const refresh = () => {
    if (!ds || !mineId) {
      return;
    }
    const flavour: Flavour = ds.type.includes('victoria') ? 'victoriametrics' : 'prometheus';
    runQueries(ds.uid, flavour, mineId)
      .then((f) => {
        setFrames(f);
        setNow(Date.now());
        setQueryError(undefined);
      })
      .catch((e) => setQueryError(e?.data?.message ?? e?.message ?? String(e)));
  };
  useEffect(refresh, [ds, mineId]);

  const data = useMemo(() => readFrames(frames, mineId), [frames, mineId]);

  return (
    <PluginPage>
      <Stack direction="row" gap={2} alignItems="flex-end">
        <Field label="Mine">
          <Combobox
            width={40}
            value={mineId}
            options={plans.map((p) => ({ value: p.mine_id, label: p.mine_id, description: p.error }))}
            onChange={(v) => setMineId(v?.value ?? '')}
          />
        </Field>
        <Field label="Data source" description="Prometheus or VictoriaMetrics">
          <DataSourcePicker
            current={ds?.uid}
            filter={(d) => d.type === 'prometheus' || d.type.includes('victoriametrics')}
            onChange={(d) => setDs({ uid: d.uid, type: d.type })}
          />
        </Field>
        <Button icon="sync" onClick={refresh} disabled={!ds || !mineId}>
          Refresh
        </Button>
      </Stack>
      {listError && <Alert title="Plans">{listError}</Alert>}
      {queryError && <Alert title="Query">{queryError}</Alert>}
      {planState.error && mineId && (
        <Alert title={`Plan of mine ${mineId}`}>
          {planState.error}
          {planState.problems?.map((p) => (
            <div key={p}>{p}</div>
          ))}
        </Alert>
      )}
      <div className={styles.view} ref={viewRef}>
        {planState.plan && size.width > 0 && (
          <MineView
            mineId={mineId}
            plan={planState.plan}
            data={data}
            now={now}
            width={size.width}
            height={size.height}
            freshness={DEFAULT_FRESHNESS}
            mode="rescue"
          />
        )}
      </div>
    </PluginPage>
  );
}

/** Returns the size of an element, updated when it resizes. */
function useElementSize(ref: React.RefObject<HTMLDivElement | null>) {
  const [size, setSize] = useState({ width: 0, height: 0 });
  useEffect(() => {
    const el = ref.current;
    if (!el) {
      return;
    }
    const ro = new ResizeObserver(() => setSize({ width: el.clientWidth, height: el.clientHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return size;
}

export default RescuePage;

const getStyles = (theme: GrafanaTheme2) => ({
  view: css({ height: '70vh', marginTop: theme.spacing(2) }),
});
