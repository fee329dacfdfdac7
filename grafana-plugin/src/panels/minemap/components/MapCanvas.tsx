import React, { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2 } from '@grafana/data';
import { useStyles2, useTheme2 } from '@grafana/ui';
import { MineData, Tag } from '../../../data/frames';
import { FixState, Freshness, formatDuration } from '../../../data/rescue';
import { areaAt } from '../../../geo/locate';
import { AreaStatus } from '../../../geo/status';
import { MinePlan } from '../../../geo/types';
import { Viewport, pan, scaleBarMetres, zoomAt } from '../../../geo/viewport';
import { TagLayer, drawPlan, drawTags, hitTest } from '../render';

export interface MapCanvasProps {
  plan: MinePlan;
  data: MineData;
  width: number;
  height: number;
  viewport: Viewport;
  onViewport: (v: Viewport) => void;
  statuses: Map<string, AreaStatus>;
  visible: (z: number) => boolean;
  now: number;
  freshness: Freshness;
  /** Card to ring and show a tooltip for, chosen by search. */
  pinned?: string;
}

interface Hover {
  tag: Tag;
  state: FixState;
  x: number;
  y: number;
}

/**
 * Two stacked canvases: the plan (areas, tunnels, stations) redrawn when
 * the view or area states change, and the tags redrawn on every data
 * update. Mouse: drag pans, wheel and double-click zoom, hover shows a
 * card's tooltip.
 */
export function MapCanvas(props: MapCanvasProps) {
  const { plan, data, width, height, viewport, onViewport, statuses, visible, now, freshness, pinned } = props;
  const theme = useTheme2();
  const styles = useStyles2(getStyles);
  const planRef = useRef<HTMLCanvasElement>(null);
  const tagsRef = useRef<HTMLCanvasElement>(null);
  const layerRef = useRef<TagLayer | null>(null);
  const dragRef = useRef<{ x: number; y: number } | null>(null);
  const [hover, setHover] = useState<Hover | null>(null);
  const dpr = typeof window !== 'undefined' ? window.devicePixelRatio || 1 : 1;

  useLayoutEffect(() => {
    const ctx = prepare(planRef.current, width, height, dpr);
    if (!ctx) {
      return;
    }
    drawPlan(
      ctx,
      plan,
      viewport,
      statuses,
      data.stations,
      visible,
      {
        tunnel: theme.isDark ? 'rgb(110, 118, 130)' : 'rgb(150, 155, 165)',
        haulage: theme.isDark ? 'rgb(150, 140, 110)' : 'rgb(170, 150, 100)',
        station: theme.isDark ? 'rgb(220, 220, 220)' : 'rgb(40, 40, 40)',
        stationDown: 'rgb(242, 73, 92)',
        text: theme.colors.text.secondary,
        background: theme.colors.background.primary,
      },
      width,
      height
    );
  }, [plan, viewport, statuses, data.stations, visible, theme, width, height, dpr]);

  useLayoutEffect(() => {
    const ctx = prepare(tagsRef.current, width, height, dpr);
    if (!ctx) {
      return;
    }
    layerRef.current = drawTags(ctx, data, viewport, visible, now, freshness, width, height, pinned);
  }, [data, viewport, visible, now, freshness, width, height, dpr, pinned]);

  // Keep the pinned card's tooltip on it as the data and the view change.
  useEffect(() => {
    const layer = layerRef.current;
    if (!pinned || !layer) {
      setHover(null);
      return;
    }
    const i = layer.tags.findIndex((t) => t.id === pinned);
    setHover(i < 0 ? null : { tag: layer.tags[i], state: layer.states[i], x: layer.xs[i], y: layer.ys[i] });
  }, [pinned, data, viewport, visible]);

  const onMouseMove = useCallback(
    (e: React.MouseEvent<HTMLCanvasElement>) => {
      const rect = e.currentTarget.getBoundingClientRect();
      const x = e.clientX - rect.left;
      const y = e.clientY - rect.top;
      if (dragRef.current) {
        onViewport(pan(viewport, x - dragRef.current.x, y - dragRef.current.y));
        dragRef.current = { x, y };
        return;
      }
      const layer = layerRef.current;
      const i = layer ? hitTest(layer, x, y) : -1;
      if (layer && i >= 0) {
        setHover({ tag: layer.tags[i], state: layer.states[i], x: layer.xs[i], y: layer.ys[i] });
      } else if (!pinned) {
        setHover(null);
      }
    },
    [viewport, onViewport, pinned]
  );

  const onWheel = useCallback(
    (e: React.WheelEvent<HTMLCanvasElement>) => {
      const rect = e.currentTarget.getBoundingClientRect();
      const factor = Math.exp(-e.deltaY * 0.002);
      onViewport(zoomAt(viewport, factor, e.clientX - rect.left, e.clientY - rect.top));
    },
    [viewport, onViewport]
  );

  const onDoubleClick = useCallback(
    (e: React.MouseEvent<HTMLCanvasElement>) => {
      const rect = e.currentTarget.getBoundingClientRect();
      onViewport(zoomAt(viewport, 2, e.clientX - rect.left, e.clientY - rect.top));
    },
    [viewport, onViewport]
  );

  const bar = scaleBarMetres(viewport, 120);

  return (
    <div className={styles.wrap} style={{ width, height }}>
      <canvas ref={planRef} className={styles.canvas} data-testid="minemap-plan" />
      <canvas
        ref={tagsRef}
        className={styles.canvas}
        data-testid="minemap-canvas"
        onMouseDown={(e) => {
          const rect = e.currentTarget.getBoundingClientRect();
          dragRef.current = { x: e.clientX - rect.left, y: e.clientY - rect.top };
        }}
        onMouseUp={() => (dragRef.current = null)}
        onMouseLeave={() => {
          dragRef.current = null;
          if (!pinned) {
            setHover(null);
          }
        }}
        onMouseMove={onMouseMove}
        onWheel={onWheel}
        onDoubleClick={onDoubleClick}
      />
      <div className={styles.scale} data-testid="minemap-scale">
        <div className={styles.scaleBar} style={{ width: bar * viewport.scale }} />
        <span>{bar >= 1000 ? `${bar / 1000} km` : `${bar} m`}</span>
      </div>
      {hover && <Tooltip hover={hover} plan={plan} now={now} left={hover.x} top={hover.y} width={width} />}
    </div>
  );
}

function Tooltip({
  hover,
  plan,
  now,
  left,
  top,
  width,
}: {
  hover: Hover;
  plan: MinePlan;
  now: number;
  left: number;
  top: number;
  width: number;
}) {
  const styles = useStyles2(getStyles);
  const t = hover.tag;
  const area = areaAt(plan, t.x, t.y, t.z);
  const age = Number.isNaN(t.fixTime) ? undefined : Math.max(0, (now - t.fixTime) / 1000);
  const underground = t.undergroundSeconds === undefined ? undefined : t.undergroundSeconds + (age ?? 0);
  const flip = left > width - 240;
  return (
    <div
      className={styles.tooltip}
      style={flip ? { right: width - left + 12, top: top + 12 } : { left: left + 12, top: top + 12 }}
      data-testid="minemap-tooltip"
      data-x={left}
      data-y={top}
    >
      <div className={styles.tooltipTitle}>
        {t.kind === 'vehicle' ? 'Vehicle' : 'Card'} <span data-testid="tooltip-card">{t.id}</span>
        {t.sos && <span className={styles.sos}> SOS</span>}
      </div>
      <div>
        Area: <span data-testid="tooltip-area">{area ? `${area.name} (${area.code})` : 'none'}</span>
      </div>
      {t.kind === 'person' && <div>Underground: {formatDuration(underground)}</div>}
      <div>
        Last fix: <span data-testid="tooltip-age">{formatDuration(age)}</span> ago
        {hover.state !== 'live' && <span className={styles.stale}> (stale)</span>}
      </div>
      <div className={styles.dim}>
        x {t.x.toFixed(1)} m, y {t.y.toFixed(1)} m{Number.isNaN(t.z) ? '' : `, z ${t.z.toFixed(1)} m`}
        {t.source ? `, ${t.source}` : ''}
      </div>
    </div>
  );
}

function prepare(canvas: HTMLCanvasElement | null, width: number, height: number, dpr: number) {
  if (!canvas) {
    return null;
  }
  const w = Math.round(width * dpr);
  const h = Math.round(height * dpr);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
  }
  const ctx = canvas.getContext('2d');
  ctx?.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

const getStyles = (theme: GrafanaTheme2) => ({
  wrap: css({ position: 'relative', overflow: 'hidden' }),
  canvas: css({ position: 'absolute', left: 0, top: 0, touchAction: 'none' }),
  scale: css({
    position: 'absolute',
    left: theme.spacing(1),
    bottom: theme.spacing(1),
    fontSize: theme.typography.bodySmall.fontSize,
    color: theme.colors.text.secondary,
    pointerEvents: 'none',
  }),
  scaleBar: css({ height: 4, borderLeft: '1px solid', borderRight: '1px solid', borderBottom: '1px solid' }),
  tooltip: css({
    position: 'absolute',
    zIndex: 2,
    minWidth: 200,
    padding: theme.spacing(1),
    background: theme.colors.background.secondary,
    border: `1px solid ${theme.colors.border.medium}`,
    borderRadius: theme.shape.radius.default,
    boxShadow: theme.shadows.z2,
    fontSize: theme.typography.bodySmall.fontSize,
    pointerEvents: 'none',
  }),
  tooltipTitle: css({ fontWeight: theme.typography.fontWeightMedium }),
  sos: css({ color: theme.colors.error.text, fontWeight: theme.typography.fontWeightBold }),
  stale: css({ color: theme.colors.warning.text }),
  dim: css({ color: theme.colors.text.secondary }),
});
