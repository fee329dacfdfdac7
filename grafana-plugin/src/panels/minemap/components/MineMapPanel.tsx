import React, { useMemo } from 'react';
import { css } from '@emotion/css';
import { PanelProps } from '@grafana/data';
import { Alert, LoadingPlaceholder, useStyles2 } from '@grafana/ui';
import { readFrames } from '../../../data/frames';
import { MineMapOptions } from '../types';
import { usePlan } from '../usePlan';
import { MineView } from './MineView';

/**
 * Renders the mine map panel: the plan comes from the app backend, and the
 * people, vehicles, area counts and alerts from the panel's queries.
 */
export function MineMapPanel({ data, width, height, options, replaceVariables }: PanelProps<MineMapOptions>) {
  const styles = useStyles2(getStyles);
  const mineId = replaceVariables(options.mineId ?? '').trim();
  const planState = usePlan(mineId);
  const mine = useMemo(() => readFrames(data.series, mineId), [data.series, mineId]);
  const freshness = useMemo(
    () => ({ staleAfter: options.staleAfterSeconds ?? 120, missingAfter: options.missingAfterSeconds ?? 900 }),
    [options.staleAfterSeconds, options.missingAfterSeconds]
  );
  // Ages count to the end of the dashboard's time range, so a past range
  // shows the state as it was then.
  const rangeEnd = data.timeRange?.to?.valueOf();
  const now = Math.min(Date.now(), rangeEnd && !Number.isNaN(rangeEnd) ? rangeEnd : Date.now());

  if (planState.loading) {
    return <LoadingPlaceholder text={`Loading the plan of mine ${mineId}`} />;
  }
  if (planState.error || !planState.plan) {
    return (
      <div className={styles.error} style={{ width, height }}>
        <Alert severity="error" title={`No plan for mine ${mineId}`}>
          <div>{planState.error}</div>
          {planState.problems && (
            <ul>
              {planState.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
        </Alert>
      </div>
    );
  }
  return (
    <MineView
      mineId={mineId}
      plan={planState.plan}
      data={mine}
      now={now}
      width={width}
      height={height}
      freshness={freshness}
      mode={options.mode ?? 'map'}
    />
  );
}

const getStyles = () => ({
  error: css({ overflow: 'auto' }),
});
