import { levelOf } from './levels';
import { inBounds, pointInPolygon } from './polygon';
import { Area, MinePlan, Station } from './types';

/**
 * Returns the area whose polygon contains (x, y). Where areas on different
 * levels overlap in plan view, the one nearest in z wins (an unknown z
 * takes the first match).
 */
export function areaAt(plan: MinePlan, x: number, y: number, z: number): Area | undefined {
  let best: Area | undefined;
  let bestDz = Infinity;
  for (const a of plan.areas) {
    if (!inBounds(a.bounds, x, y) || !pointInPolygon(x, y, a.rings)) {
      continue;
    }
    const dz = Number.isNaN(z) || Number.isNaN(a.z) ? 0 : Math.abs(z - a.z);
    if (dz < bestDz) {
      best = a;
      bestDz = dz;
    }
  }
  return best;
}

/**
 * Returns the station nearest to (x, y), preferring stations on the same
 * level as z. Station-level positioning puts a card at its station's
 * coordinates, so this is the station that last read the card. For UWB
 * fixes it is the nearest reference point for a rescue team.
 */
export function nearestStation(plan: MinePlan, x: number, y: number, z: number): Station | undefined {
  const level = Number.isNaN(z) ? undefined : levelOf(z, plan.levels);
  let best: Station | undefined;
  let bestScore = Infinity;
  for (const s of plan.stations) {
    const dx = s.position[0] - x;
    const dy = s.position[1] - y;
    let score = dx * dx + dy * dy;
    if (level !== undefined && levelOf(s.z, plan.levels) !== level) {
      // Another level is only a fallback: a shaft or incline joins them.
      score += 1e12;
    }
    if (score < bestScore) {
      best = s;
      bestScore = score;
    }
  }
  return best;
}
