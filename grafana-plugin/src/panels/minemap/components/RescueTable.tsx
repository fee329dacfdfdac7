import React, { useMemo } from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2, dateTimeFormat } from '@grafana/data';
import { Button, Checkbox, useStyles2 } from '@grafana/ui';
import { RescueRow, formatDuration, rescueCSV } from '../../../data/rescue';

export interface RescueTableProps {
  mineId: string;
  rows: RescueRow[];
  missing: number;
  includeMissing: boolean;
  onIncludeMissing: (v: boolean) => void;
  width: number;
  height: number;
}

/** Downloads text as a file through a temporary object URL. */
export function downloadText(name: string, text: string, type: string) {
  // A BOM makes spreadsheet programs read the Chinese names as UTF-8.
  const blob = new Blob(['\ufeff', text], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/**
 * Everyone last seen underground, grouped by area: the list a rescue
 * command post works from. Ages count from the data's own timestamps, so
 * the list stays right after positioning data stops arriving.
 */
export function RescueTable({
  mineId,
  rows,
  missing,
  includeMissing,
  onIncludeMissing,
  width,
  height,
}: RescueTableProps) {
  const styles = useStyles2(getStyles);
  const byArea = useMemo(() => {
    const counts = new Map<string, number>();
    rows.forEach((r) => counts.set(r.areaName || 'no area', (counts.get(r.areaName || 'no area') ?? 0) + 1));
    return Array.from(counts.entries());
  }, [rows]);
  const stale = rows.filter((r) => r.state !== 'live').length;

  const exportCSV = () => {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    downloadText(`rescue-${mineId}-${stamp}.csv`, rescueCSV(mineId, rows), 'text/csv;charset=utf-8');
  };

  return (
    <div className={styles.wrap} style={{ width, height }} data-testid="rescue-view">
      <div className={styles.head}>
        <strong data-testid="rescue-count">{rows.length}</strong>&nbsp;last seen underground
        {stale > 0 && <span className={styles.warn}>&nbsp;({stale} with stale fixes)</span>}
        <span className={styles.spacer} />
        <Checkbox
          label={`Include ${missing} missing from the latest data`}
          value={includeMissing}
          onChange={(e) => onIncludeMissing(e.currentTarget.checked)}
        />
        <Button size="sm" icon="download-alt" onClick={exportCSV} data-testid="rescue-csv">
          CSV
        </Button>
      </div>
      <div className={styles.summary}>
        {byArea.map(([name, n]) => (
          <span key={name} className={styles.chip}>
            {name}: {n}
          </span>
        ))}
      </div>
      <div className={styles.scroll}>
        <table className={styles.table} data-testid="rescue-table">
          <thead>
            <tr>
              <th>Area</th>
              <th>Card</th>
              <th>Station</th>
              <th>Last fix</th>
              <th>Age</th>
              <th>Underground</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.card} data-card={r.card} className={r.state === 'live' ? undefined : styles.staleRow}>
                <td data-col="area">
                  {r.areaName || 'no area'}
                  {r.areaCode && <span className={styles.dim}> {r.areaCode}</span>}
                </td>
                <td data-col="card">
                  {r.card}
                  {r.sos && <span className={styles.sos}> SOS</span>}
                </td>
                <td data-col="station">
                  {r.stationName}
                  <span className={styles.dim}> {r.stationCode}</span>
                </td>
                <td data-col="last-fix">{Number.isNaN(r.lastFix) ? 'unknown' : dateTimeFormat(r.lastFix)}</td>
                <td data-col="age">
                  {formatDuration(r.ageSeconds)}
                  {r.state !== 'live' && <span className={styles.warn}> {r.state}</span>}
                </td>
                <td>{formatDuration(r.undergroundSeconds)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  wrap: css({ display: 'flex', flexDirection: 'column', overflow: 'hidden' }),
  head: css({ display: 'flex', alignItems: 'center', gap: theme.spacing(1), padding: theme.spacing(0.5, 0) }),
  spacer: css({ flex: 1 }),
  summary: css({ display: 'flex', flexWrap: 'wrap', gap: theme.spacing(0.5), paddingBottom: theme.spacing(0.5) }),
  chip: css({
    padding: theme.spacing(0, 1),
    borderRadius: theme.shape.radius.pill,
    background: theme.colors.background.secondary,
    fontSize: theme.typography.bodySmall.fontSize,
  }),
  scroll: css({ flex: 1, overflow: 'auto' }),
  table: css({
    width: '100%',
    borderCollapse: 'collapse',
    fontSize: theme.typography.bodySmall.fontSize,
    'th, td': {
      textAlign: 'left',
      padding: theme.spacing(0.25, 1),
      borderBottom: `1px solid ${theme.colors.border.weak}`,
    },
    th: { position: 'sticky', top: 0, background: theme.colors.background.primary },
  }),
  staleRow: css({ color: theme.colors.text.secondary }),
  warn: css({ color: theme.colors.warning.text }),
  sos: css({ color: theme.colors.error.text, fontWeight: theme.typography.fontWeightBold }),
  dim: css({ color: theme.colors.text.disabled }),
});
