import { Bounds, XY } from './types';

/**
 * Reports whether (x, y) lies inside a closed ring, by counting crossings of
 * a ray towards +x (even-odd rule). Points exactly on an edge may fall
 * either way.
 */
export function pointInRing(x: number, y: number, ring: XY[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) {
      inside = !inside;
    }
  }
  return inside;
}

/** Reports whether (x, y) lies inside the outer ring and outside every hole. */
export function pointInPolygon(x: number, y: number, rings: XY[][]): boolean {
  if (rings.length === 0 || !pointInRing(x, y, rings[0])) {
    return false;
  }
  for (let h = 1; h < rings.length; h++) {
    if (pointInRing(x, y, rings[h])) {
      return false;
    }
  }
  return true;
}

export function emptyBounds(): Bounds {
  return { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
}

export function extendBounds(b: Bounds, x: number, y: number): Bounds {
  if (x < b.minX) {
    b.minX = x;
  }
  if (y < b.minY) {
    b.minY = y;
  }
  if (x > b.maxX) {
    b.maxX = x;
  }
  if (y > b.maxY) {
    b.maxY = y;
  }
  return b;
}

export function inBounds(b: Bounds, x: number, y: number): boolean {
  return x >= b.minX && x <= b.maxX && y >= b.minY && y <= b.maxY;
}

export function isEmpty(b: Bounds): boolean {
  return !(b.minX <= b.maxX && b.minY <= b.maxY);
}
