import { MineData, Tag } from '../../data/frames';
import { FixState, Freshness, fixState } from '../../data/rescue';
import { AreaStatus, statusColour } from '../../geo/status';
import { MinePlan } from '../../geo/types';
import { Viewport } from '../../geo/viewport';

/** Colours of the moving layer; a fixed palette so screenshots compare across themes. */
export const TAG_COLOURS = {
  person: 'rgb(50, 116, 217)',
  personStale: 'rgb(150, 150, 150)',
  sos: 'rgb(255, 0, 60)',
  vehicle: 'rgb(255, 152, 48)',
  highlight: 'rgb(255, 255, 255)',
};

export interface PlanStyle {
  tunnel: string;
  haulage: string;
  station: string;
  stationDown: string;
  text: string;
  background: string;
}

/**
 * Draws the plan layer: area fills by status, tunnels, stations and
 * names. stationUp maps station codes to their link state where known.
 */
export function drawPlan(
  ctx: CanvasRenderingContext2D,
  plan: MinePlan,
  v: Viewport,
  statuses: Map<string, AreaStatus>,
  stationUp: Map<string, boolean | undefined>,
  style: PlanStyle,
  width: number,
  height: number
) {
  ctx.fillStyle = style.background;
  ctx.fillRect(0, 0, width, height);
  const sx = (x: number) => v.offsetX + x * v.scale;
  const sy = (y: number) => v.offsetY - y * v.scale;

  for (const a of plan.areas) {
    const c = statusColour(statuses.get(a.code) ?? 'empty');
    ctx.beginPath();
    for (const ring of a.rings) {
      ring.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(sx(x), sy(y)) : ctx.lineTo(sx(x), sy(y))));
      ctx.closePath();
    }
    ctx.fillStyle = c.fill;
    ctx.fill('evenodd');
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = c.stroke;
    ctx.stroke();
  }

  // Tunnels are a few metres wide: draw them 3 m wide, at least 2 px.
  const tunnelWidth = Math.max(2, 3 * v.scale);
  for (const t of plan.tunnels) {
    ctx.beginPath();
    t.points.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(sx(x), sy(y)) : ctx.lineTo(sx(x), sy(y))));
    ctx.lineWidth = tunnelWidth;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = t.haulage ? style.haulage : style.tunnel;
    ctx.stroke();
  }

  for (const s of plan.stations) {
    const x = sx(s.position[0]);
    const y = sy(s.position[1]);
    ctx.fillStyle = stationUp.get(s.code) === false ? style.stationDown : style.station;
    ctx.fillRect(x - 4, y - 4, 8, 8);
  }

  ctx.fillStyle = style.text;
  ctx.font = '12px sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  for (const a of plan.areas) {
    const b = a.bounds;
    const w = (b.maxX - b.minX) * v.scale;
    if (w < 40) {
      continue;
    }
    ctx.fillText(a.name, sx((b.minX + b.maxX) / 2), sy(b.maxY) - 2);
  }
}

/**
 * Screen positions of the drawn tags, kept for hit testing: xs[i], ys[i]
 * belong to tags[i].
 */
export interface TagLayer {
  tags: Tag[];
  states: FixState[];
  xs: Float32Array;
  ys: Float32Array;
}

export const PERSON_RADIUS = 4;

/**
 * Draws people and vehicles that pass the level filter, batched into one
 * path per style, so 5,000 markers cost a handful of canvas calls. It
 * returns their screen positions for hit testing.
 */
export function drawTags(
  ctx: CanvasRenderingContext2D,
  data: MineData,
  v: Viewport,
  visible: (z: number) => boolean,
  now: number,
  freshness: Freshness,
  width: number,
  height: number,
  highlight?: string
): TagLayer {
  ctx.clearRect(0, 0, width, height);
  const n = data.people.size + data.vehicles.size;
  const layer: TagLayer = { tags: [], states: [], xs: new Float32Array(n), ys: new Float32Array(n) };
  const margin = 10;

  const live = new Path2D();
  const stale = new Path2D();
  const sos = new Path2D();
  let count = 0;
  const r = PERSON_RADIUS;
  for (const t of data.people.values()) {
    const state = fixState(t, data.newestFix, now, freshness);
    if (state === 'missing' || !visible(t.z)) {
      continue;
    }
    const x = v.offsetX + t.x * v.scale;
    const y = v.offsetY - t.y * v.scale;
    if (x < -margin || y < -margin || x > width + margin || y > height + margin) {
      continue;
    }
    const path = t.sos ? sos : state === 'live' ? live : stale;
    path.moveTo(x + r, y);
    path.arc(x, y, r, 0, 2 * Math.PI);
    layer.tags.push(t);
    layer.states.push(state);
    layer.xs[count] = x;
    layer.ys[count] = y;
    count++;
  }
  ctx.fillStyle = TAG_COLOURS.person;
  ctx.fill(live);
  // Stale fixes: hollow grey rings, so the last known place shows without
  // claiming the card is still there.
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = TAG_COLOURS.personStale;
  ctx.stroke(stale);
  ctx.fillStyle = TAG_COLOURS.sos;
  ctx.fill(sos);

  const vehicles = new Path2D();
  const s = 5;
  for (const t of data.vehicles.values()) {
    if (!visible(t.z)) {
      continue;
    }
    const x = v.offsetX + t.x * v.scale;
    const y = v.offsetY - t.y * v.scale;
    if (x < -margin || y < -margin || x > width + margin || y > height + margin) {
      continue;
    }
    vehicles.rect(x - s, y - s, 2 * s, 2 * s);
    layer.tags.push(t);
    layer.states.push(now - t.fixTime > freshness.staleAfter * 1000 ? 'stale' : 'live');
    layer.xs[count] = x;
    layer.ys[count] = y;
    count++;
  }
  ctx.fillStyle = TAG_COLOURS.vehicle;
  ctx.fill(vehicles);

  if (highlight) {
    const i = layer.tags.findIndex((t) => t.id === highlight);
    if (i >= 0) {
      ctx.beginPath();
      ctx.arc(layer.xs[i], layer.ys[i], r + 5, 0, 2 * Math.PI);
      ctx.lineWidth = 2;
      ctx.strokeStyle = TAG_COLOURS.highlight;
      ctx.stroke();
    }
  }
  return layer;
}

/** Returns the index of the tag within radius pixels of (x, y) nearest to it, or -1. */
export function hitTest(layer: TagLayer, x: number, y: number, radius = 8): number {
  let best = -1;
  let bestD = radius * radius;
  for (let i = 0; i < layer.tags.length; i++) {
    const dx = layer.xs[i] - x;
    const dy = layer.ys[i] - y;
    const d = dx * dx + dy * dy;
    if (d <= bestD) {
      best = i;
      bestD = d;
    }
  }
  return best;
}
