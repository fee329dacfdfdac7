import { MineData, StationState, Tag } from '../../data/frames';
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
 * names. stations holds the RYJZ stations from the queries: their link
 * state colours the plan's stations, and those missing from the plan are
 * drawn at their RYJZ coordinates when visible(z).
 */
export function drawPlan(
  ctx: CanvasRenderingContext2D,
  plan: MinePlan,
  v: Viewport,
  statuses: Map<string, AreaStatus>,
  stations: Map<string, StationState>,
  visible: (z: number) => boolean,
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

  const drawStation = (x: number, y: number, up: boolean | undefined) => {
    ctx.fillStyle = up === false ? style.stationDown : style.station;
    ctx.fillRect(sx(x) - 4, sy(y) - 4, 8, 8);
  };
  const inPlan = new Set<string>();
  for (const s of plan.stations) {
    inPlan.add(s.code);
    drawStation(s.position[0], s.position[1], stations.get(s.code)?.up);
  }
  for (const s of stations.values()) {
    if (!inPlan.has(s.code) && Number.isFinite(s.x) && Number.isFinite(s.y) && visible(s.z)) {
      drawStation(s.x, s.y, s.up);
    }
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
const GOLDEN_ANGLE = Math.PI * (3 - Math.sqrt(5));
/** Pixels between neighbours on the spiral of cards stacked on one station. */
const SPREAD_STEP = 5;

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
  const n = data.people.size + data.vehicles.size;
  const layer: TagLayer = { tags: [], states: [], xs: new Float32Array(n), ys: new Float32Array(n) };
  const margin = 10;

  const dpr = ctx.getTransform().a || 1;
  const pixels = new PixelLayer(ctx, width, height, dpr);
  const masks = masksFor(dpr);
  let count = 0;
  const r = PERSON_RADIUS;
  // Station-level positioning puts every card read by a station on the
  // station itself. Such cards are spread on a small spiral around it, so
  // each stays visible and can be hovered.
  const stacked = new Map<string, number>();
  for (const t of data.people.values()) {
    const state = fixState(t, data.newestFix, now, freshness);
    if (state === 'missing' || !visible(t.z)) {
      continue;
    }
    let x = v.offsetX + t.x * v.scale;
    let y = v.offsetY - t.y * v.scale;
    if (t.source === 'station') {
      const key = `${t.x},${t.y}`;
      const k = stacked.get(key) ?? 0;
      stacked.set(key, k + 1);
      if (k > 0) {
        const angle = k * GOLDEN_ANGLE;
        const radius = SPREAD_STEP * Math.sqrt(k);
        x += radius * Math.cos(angle);
        y += radius * Math.sin(angle);
      }
    }
    if (x < -margin || y < -margin || x > width + margin || y > height + margin) {
      continue;
    }
    // Stale fixes are hollow grey rings: the last known place shows
    // without claiming the card is still there.
    if (t.sos) {
      pixels.stamp(masks.disc, x, y, RGBA.sos);
    } else if (state === 'live') {
      pixels.stamp(masks.disc, x, y, RGBA.person);
    } else {
      pixels.stamp(masks.ring, x, y, RGBA.personStale);
    }
    layer.tags.push(t);
    layer.states.push(state);
    layer.xs[count] = x;
    layer.ys[count] = y;
    count++;
  }

  for (const t of data.vehicles.values()) {
    if (!visible(t.z)) {
      continue;
    }
    const x = v.offsetX + t.x * v.scale;
    const y = v.offsetY - t.y * v.scale;
    if (x < -margin || y < -margin || x > width + margin || y > height + margin) {
      continue;
    }
    pixels.stamp(masks.square, x, y, RGBA.vehicle);
    layer.tags.push(t);
    layer.states.push(now - t.fixTime > freshness.staleAfter * 1000 ? 'stale' : 'live');
    layer.xs[count] = x;
    layer.ys[count] = y;
    count++;
  }
  pixels.flush();

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

/**
 * Markers as lists of pixel offsets at the device pixel ratio. Writing a few
 * dozen pixels per tag into one ImageData and putting it once costs about a
 * millisecond for thousands of tags. Filling one path of thousands of
 * circles, or drawing thousands of bitmaps, costs tens of milliseconds when
 * Chromium renders in software (no GPU). docs/benchmarks.md has the figures.
 */
interface Masks {
  disc: Int32Array;
  ring: Int32Array;
  square: Int32Array;
}

const maskCache = new Map<number, Masks>();

function masksFor(dpr: number): Masks {
  let m = maskCache.get(dpr);
  if (m) {
    return m;
  }
  const build = (radius: number, keep: (dx: number, dy: number) => boolean) => {
    const out: number[] = [];
    for (let dy = -radius; dy <= radius; dy++) {
      for (let dx = -radius; dx <= radius; dx++) {
        if (keep(dx, dy)) {
          out.push(dx, dy);
        }
      }
    }
    return Int32Array.from(out);
  };
  const r = PERSON_RADIUS * dpr;
  const ring = 1.5 * dpr;
  const half = Math.round(5 * dpr);
  m = {
    disc: build(Math.ceil(r), (dx, dy) => dx * dx + dy * dy <= r * r),
    ring: build(Math.ceil(r), (dx, dy) => {
      const d = Math.sqrt(dx * dx + dy * dy);
      return d <= r && d >= r - ring;
    }),
    square: build(half, () => true),
  };
  maskCache.set(dpr, m);
  return m;
}

function rgba(r: number, g: number, b: number): number {
  // ImageData is RGBA in memory; a Uint32Array view reads it little-endian.
  return ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

const RGBA = {
  person: rgba(50, 116, 217),
  personStale: rgba(150, 150, 150),
  sos: rgba(255, 0, 60),
  vehicle: rgba(255, 152, 48),
};

/** A device-pixel buffer for the tag layer, put onto the canvas in one call. */
class PixelLayer {
  private image: ImageData;
  private words: Uint32Array;
  private w: number;
  private h: number;

  constructor(
    private ctx: CanvasRenderingContext2D,
    width: number,
    height: number,
    private dpr: number
  ) {
    this.w = Math.round(width * dpr);
    this.h = Math.round(height * dpr);
    this.image = ctx.createImageData(this.w, this.h);
    this.words = new Uint32Array(this.image.data.buffer);
  }

  stamp(mask: Int32Array, x: number, y: number, colour: number) {
    const cx = Math.round(x * this.dpr);
    const cy = Math.round(y * this.dpr);
    const { w, h, words } = this;
    for (let i = 0; i < mask.length; i += 2) {
      const px = cx + mask[i];
      const py = cy + mask[i + 1];
      if (px >= 0 && py >= 0 && px < w && py < h) {
        words[py * w + px] = colour;
      }
    }
  }

  flush() {
    this.ctx.putImageData(this.image, 0, 0);
  }
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
