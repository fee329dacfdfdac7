import React, { ReactNode, useCallback, useMemo, useState } from 'react';
import { css, cx } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { Button, Input, RadioButtonGroup, useStyles2 } from '@grafana/ui';
import { MineData } from '../../../data/frames';
import { Freshness, fixState, rescueRows } from '../../../data/rescue';
import { ALL_LEVELS, filterPlan, levelOf, onLevel } from '../../../geo/levels';
import { areaAt } from '../../../geo/locate';
import { AreaStatus, areaStatus, statusColour } from '../../../geo/status';
import { MinePlan } from '../../../geo/types';
import { Viewport, centreOn, fitBounds, zoomAt } from '../../../geo/viewport';
import { MapMode } from '../types';
import { MapCanvas } from './MapCanvas';
import { RescueTable } from './RescueTable';

export interface MineViewProps {
  mineId: string;
  plan: MinePlan;
  data: MineData;
  now: number;
  width: number;
  height: number;
  freshness: Freshness;
  mode: MapMode;
  /** Extra toolbar controls for the mine (a camera or call button). */
  actions?: ReactNode;
}

const TOOLBAR_HEIGHT = 36;
const SIDEBAR_WIDTH = 230;

export interface AreaRow {
  code: string;
  name: string;
  type: string;
  persons?: number;
  limit?: number;
  status: AreaStatus;
  violations: string[];
}

/**
 * Returns each plan area's persons, limit, firing violations and status.
 * Persons come from mine_area_persons; when no such series arrived at all,
 * they are counted from the positions that fall inside each polygon.
 */
export function areaRows(plan: MinePlan, data: MineData, now: number, freshness: Freshness): AreaRow[] {
  let counted: Map<string, number> | undefined;
  if (data.areaPersons.size === 0 && data.people.size > 0) {
    counted = new Map();
    for (const t of data.people.values()) {
      if (fixState(t, data.newestFix, now, freshness) === 'missing') {
        continue;
      }
      const a = areaAt(plan, t.x, t.y, t.z);
      if (a) {
        counted.set(a.code, (counted.get(a.code) ?? 0) + 1);
      }
    }
  }
  return plan.areas.map((a) => {
    const persons = counted ? (counted.get(a.code) ?? 0) : data.areaPersons.get(a.code);
    const limit = data.areaLimits.get(a.code) ?? a.limit;
    const violations = Array.from(
      new Set(data.alerts.filter((al) => al.area === a.code).map((al) => al.violation))
    ).sort();
    return {
      code: a.code,
      name: a.name,
      type: a.type,
      persons,
      limit: limit !== undefined && limit > 0 ? limit : undefined,
      violations,
      status: areaStatus({ type: a.type, persons, limit, violations }),
    };
  });
}

/** Renders the mine map or the rescue list, with the toolbar and the area list. */
export function MineView(props: MineViewProps) {
  const { mineId, plan, data, now, width, height, freshness, actions } = props;
  const styles = useStyles2(getStyles);
  const [mode, setMode] = useState<MapMode>(props.mode);
  const [level, setLevel] = useState<string>(ALL_LEVELS);
  const [search, setSearch] = useState('');
  const [pinned, setPinned] = useState<string | undefined>();
  const [notFound, setNotFound] = useState<string | undefined>();
  const [includeMissing, setIncludeMissing] = useState(false);

  // Follow a change of the panel option (React's "adjust state on prop
  // change" pattern, without an effect).
  const [modeOption, setModeOption] = useState<MapMode>(props.mode);
  if (modeOption !== props.mode) {
    setModeOption(props.mode);
    setMode(props.mode);
  }

  const showSidebar = width >= 640;
  const mapWidth = Math.max(50, showSidebar ? width - SIDEBAR_WIDTH : width);
  const mapHeight = Math.max(50, height - TOOLBAR_HEIGHT);

  const levelPlan = useMemo(() => filterPlan(plan, level), [plan, level]);
  const fit = useCallback(
    () =>
      fitBounds(
        levelPlan.areas.length || levelPlan.tunnels.length ? boundsOf(levelPlan) : plan.bounds,
        mapWidth,
        mapHeight
      ),
    [levelPlan, plan, mapWidth, mapHeight]
  );
  const [viewport, setViewport] = useState<Viewport>(fit);
  // Refit when the plan, the level or the panel size changes.
  const [fittedTo, setFittedTo] = useState(() => fit);
  if (fittedTo !== fit) {
    setFittedTo(() => fit);
    setViewport(fit());
  }

  const visible = useCallback((z: number) => onLevel(z, level, plan.levels), [level, plan.levels]);
  const areas = useMemo(() => areaRows(plan, data, now, freshness), [plan, data, now, freshness]);
  const statuses = useMemo(() => new Map(areas.map((a) => [a.code, a.status])), [areas]);
  const mineAlerts = useMemo(
    () => Array.from(new Set(data.alerts.filter((a) => !a.area).map((a) => a.violation))).sort(),
    [data.alerts]
  );

  const rows = useMemo(
    () => (mode === 'rescue' ? rescueRows(plan, data, now, freshness, includeMissing) : []),
    [mode, plan, data, now, freshness, includeMissing]
  );
  const missing = useMemo(
    () =>
      Array.from(data.people.values()).filter((t) => fixState(t, data.newestFix, now, freshness) === 'missing').length,
    [data, now, freshness]
  );

  const findCard = (query: string) => {
    const q = query.trim();
    if (!q) {
      setPinned(undefined);
      setNotFound(undefined);
      return;
    }
    const tag =
      data.people.get(q) ??
      data.vehicles.get(q) ??
      Array.from(data.people.values()).find((t) => t.id.endsWith(q) || t.id.startsWith(q));
    if (!tag) {
      setPinned(undefined);
      setNotFound(q);
      return;
    }
    setNotFound(undefined);
    if (!onLevel(tag.z, level, plan.levels)) {
      setLevel(levelOf(tag.z, plan.levels) ?? ALL_LEVELS);
    }
    setMode('map');
    setPinned(tag.id);
    // Centre after the refit that a level change triggers.
    setTimeout(() => setViewport((v) => centreOn(v, tag.x, tag.y, mapWidth / 2, mapHeight / 2)), 0);
  };

  const levelOptions = [
    { label: 'All levels', value: ALL_LEVELS },
    ...plan.levels.map((l) => ({ label: l.name, value: l.name })),
  ];

  return (
    <div className={styles.root} style={{ width, height }}>
      <div className={styles.toolbar} style={{ height: TOOLBAR_HEIGHT }}>
        <RadioButtonGroup<MapMode>
          size="sm"
          value={mode}
          onChange={(m) => setMode(m)}
          options={[
            { label: 'Map', value: 'map' },
            { label: 'Rescue', value: 'rescue' },
          ]}
        />
        {mode === 'map' && plan.levels.length > 0 && (
          <RadioButtonGroup size="sm" value={level} onChange={(l) => setLevel(l)} options={levelOptions} />
        )}
        {mode === 'map' && (
          <>
            <Button
              size="sm"
              variant="secondary"
              aria-label="Zoom in"
              onClick={() => setViewport((v) => zoomAt(v, 1.5, mapWidth / 2, mapHeight / 2))}
            >
              +
            </Button>
            <Button
              size="sm"
              variant="secondary"
              aria-label="Zoom out"
              onClick={() => setViewport((v) => zoomAt(v, 1 / 1.5, mapWidth / 2, mapHeight / 2))}
            >
              −
            </Button>
            <Button size="sm" variant="secondary" aria-label="Fit" onClick={() => setViewport(fit())}>
              Fit
            </Button>
          </>
        )}
        <div className={styles.search}>
          <Input
            width={22}
            placeholder="Find card id"
            value={search}
            data-testid="minemap-search"
            onChange={(e) => setSearch(e.currentTarget.value)}
            onKeyDown={(e) => e.key === 'Enter' && findCard(search)}
            suffix={notFound ? <span className={styles.warn}>not found</span> : undefined}
          />
        </div>
        <span className={styles.spacer} />
        {mineAlerts.length > 0 && (
          <span className={styles.alerts} data-testid="minemap-mine-alerts">
            {mineAlerts.join(', ')}
          </span>
        )}
        {actions}
      </div>
      <div className={styles.body}>
        {mode === 'map' ? (
          <MapCanvas
            plan={levelPlan}
            data={data}
            width={mapWidth}
            height={mapHeight}
            viewport={viewport}
            onViewport={setViewport}
            statuses={statuses}
            visible={visible}
            now={now}
            freshness={freshness}
            pinned={pinned}
          />
        ) : (
          <RescueTable
            mineId={mineId}
            rows={rows}
            missing={missing}
            includeMissing={includeMissing}
            onIncludeMissing={setIncludeMissing}
            width={mapWidth}
            height={mapHeight}
          />
        )}
        {showSidebar && (
          <div
            className={styles.sidebar}
            style={{ width: SIDEBAR_WIDTH, height: mapHeight }}
            data-testid="minemap-areas"
          >
            {areas.map((a) => {
              const c = statusColour(a.status);
              return (
                <div key={a.code} className={styles.area} data-area={a.code} data-status={a.status}>
                  <span className={styles.swatch} style={{ background: c.fill, borderColor: c.stroke }} />
                  <span className={styles.areaName} title={a.code}>
                    {a.name}
                  </span>
                  <span className={cx(styles.count, a.status !== 'normal' && a.status !== 'empty' && styles.bad)}>
                    {a.persons ?? '–'}
                    {a.limit !== undefined ? ` / ${a.limit}` : ''}
                  </span>
                  {a.violations.length > 0 && <div className={styles.violations}>{a.violations.join(', ')}</div>}
                </div>
              );
            })}
          </div>
        )}
      </div>
    </div>
  );
}

function boundsOf(plan: MinePlan) {
  const b = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
  const add = (x: number, y: number) => {
    b.minX = Math.min(b.minX, x);
    b.minY = Math.min(b.minY, y);
    b.maxX = Math.max(b.maxX, x);
    b.maxY = Math.max(b.maxY, y);
  };
  plan.areas.forEach((a) => a.rings[0].forEach(([x, y]) => add(x, y)));
  plan.tunnels.forEach((t) => t.points.forEach(([x, y]) => add(x, y)));
  plan.stations.forEach((s) => add(s.position[0], s.position[1]));
  return b;
}

const getStyles = (theme: GrafanaTheme2) => ({
  root: css({ display: 'flex', flexDirection: 'column', overflow: 'hidden' }),
  toolbar: css({ display: 'flex', alignItems: 'center', gap: theme.spacing(1), flexShrink: 0 }),
  search: css({ marginLeft: theme.spacing(1) }),
  spacer: css({ flex: 1 }),
  warn: css({ color: theme.colors.warning.text }),
  alerts: css({ color: theme.colors.error.text, fontWeight: theme.typography.fontWeightMedium }),
  body: css({ display: 'flex', flex: 1, minHeight: 0 }),
  sidebar: css({ overflowY: 'auto', paddingLeft: theme.spacing(1), fontSize: theme.typography.bodySmall.fontSize }),
  area: css({
    display: 'flex',
    flexWrap: 'wrap',
    alignItems: 'center',
    gap: theme.spacing(0.5),
    padding: theme.spacing(0.5, 0),
    borderBottom: `1px solid ${theme.colors.border.weak}`,
  }),
  swatch: css({ width: 12, height: 12, border: '2px solid', borderRadius: 2, flexShrink: 0 }),
  areaName: css({ flex: 1, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }),
  count: css({ fontVariantNumeric: 'tabular-nums' }),
  bad: css({ color: theme.colors.error.text, fontWeight: theme.typography.fontWeightBold }),
  violations: css({ width: '100%', paddingLeft: 18, color: theme.colors.error.text }),
});
