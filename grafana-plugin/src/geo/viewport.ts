import { Bounds } from './types';

/**
 * Viewport maps mine-grid metres to screen pixels. The mine grid has y
 * growing north; the screen has y growing down, so y is flipped:
 *   screenX = offsetX + x * scale
 *   screenY = offsetY - y * scale
 * scale is in pixels per metre.
 */
export interface Viewport {
  scale: number;
  offsetX: number;
  offsetY: number;
}

/** Zoom limits in pixels per metre: a whole province-size grid to a few centimetres. */
export const MIN_SCALE = 1e-4;
export const MAX_SCALE = 200;

export function toScreen(v: Viewport, x: number, y: number): [number, number] {
  return [v.offsetX + x * v.scale, v.offsetY - y * v.scale];
}

export function toWorld(v: Viewport, sx: number, sy: number): [number, number] {
  return [(sx - v.offsetX) / v.scale, (v.offsetY - sy) / v.scale];
}

/**
 * Returns the viewport that shows bounds whole and centred in a
 * width x height screen with padding pixels on every side. A single point
 * or a line gets a 50 m window around it.
 */
export function fitBounds(b: Bounds, width: number, height: number, padding = 20): Viewport {
  let { minX, minY, maxX, maxY } = b;
  if (!(minX <= maxX && minY <= maxY)) {
    return { scale: 1, offsetX: width / 2, offsetY: height / 2 };
  }
  const minSpan = 50;
  if (maxX - minX < minSpan) {
    const c = (minX + maxX) / 2;
    minX = c - minSpan / 2;
    maxX = c + minSpan / 2;
  }
  if (maxY - minY < minSpan) {
    const c = (minY + maxY) / 2;
    minY = c - minSpan / 2;
    maxY = c + minSpan / 2;
  }
  const w = Math.max(1, width - 2 * padding);
  const h = Math.max(1, height - 2 * padding);
  const scale = clampScale(Math.min(w / (maxX - minX), h / (maxY - minY)));
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  return { scale, offsetX: width / 2 - cx * scale, offsetY: height / 2 + cy * scale };
}

/** Zooms by factor keeping the world point under (sx, sy) fixed on screen. */
export function zoomAt(v: Viewport, factor: number, sx: number, sy: number): Viewport {
  const scale = clampScale(v.scale * factor);
  const [wx, wy] = toWorld(v, sx, sy);
  return { scale, offsetX: sx - wx * scale, offsetY: sy + wy * scale };
}

export function pan(v: Viewport, dx: number, dy: number): Viewport {
  return { ...v, offsetX: v.offsetX + dx, offsetY: v.offsetY + dy };
}

/** Returns the viewport with world point (x, y) at screen point (sx, sy), scale unchanged. */
export function centreOn(v: Viewport, x: number, y: number, sx: number, sy: number): Viewport {
  return { scale: v.scale, offsetX: sx - x * v.scale, offsetY: sy + y * v.scale };
}

function clampScale(s: number): number {
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, s));
}

/**
 * Returns a round length in metres (1, 2 or 5 times a power of ten) whose
 * bar is at most maxPixels long at this scale, for the scale bar.
 */
export function scaleBarMetres(v: Viewport, maxPixels: number): number {
  const raw = maxPixels / v.scale;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [5, 2, 1]) {
    if (m * p <= raw) {
      return m * p;
    }
  }
  return p;
}
