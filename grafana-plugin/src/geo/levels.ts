import { Level, MinePlan } from './types';

/** The level picker's value that shows every level. */
export const ALL_LEVELS = '';

/**
 * Returns the name of the level whose [zMin, zMax) contains z, or undefined.
 * A z equal to a shared boundary belongs to the level above it (the one
 * with that zMin), so each elevation has one level.
 */
export function levelOf(z: number, levels: Level[]): string | undefined {
  for (const l of levels) {
    if (z >= l.zMin && z < l.zMax) {
      return l.name;
    }
  }
  for (const l of levels) {
    if (z === l.zMax) {
      return l.name;
    }
  }
  return undefined;
}

/**
 * Reports whether something at elevation z shows on the selected level.
 * Everything shows with ALL_LEVELS; an unknown z (NaN, a card without a z
 * fix) shows on every level rather than vanish.
 */
export function onLevel(z: number, selected: string, levels: Level[]): boolean {
  if (selected === ALL_LEVELS || Number.isNaN(z)) {
    return true;
  }
  const level = levels.find((l) => l.name === selected);
  if (!level) {
    return true;
  }
  return levelOf(z, levels) === level.name;
}

/** Returns the features of a plan that show on the selected level. */
export function filterPlan(plan: MinePlan, selected: string): MinePlan {
  if (selected === ALL_LEVELS) {
    return plan;
  }
  const keep = (z: number) => onLevel(z, selected, plan.levels);
  return {
    ...plan,
    tunnels: plan.tunnels.filter((t) => keep(t.z)),
    areas: plan.areas.filter((a) => keep(a.z)),
    stations: plan.stations.filter((s) => keep(s.z)),
  };
}
