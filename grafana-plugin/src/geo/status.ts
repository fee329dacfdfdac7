import { AreaType } from './types';

/**
 * State of an area for colouring, from least to most severe:
 * - empty: no persons;
 * - normal;
 * - near: at 90 % of the limit or more;
 * - over: above the limit, or anyone in a restricted area;
 * - critical: above 1.2 x the limit at a working face, the threshold of a
 *   major hidden danger in the coal-mine criteria;
 * - violation: a firing alert names the area.
 */
export type AreaStatus = 'empty' | 'normal' | 'near' | 'over' | 'critical' | 'violation';

export interface AreaLoad {
  type: AreaType;
  persons?: number;
  limit?: number;
  violations: string[];
}

/** Share of the limit from which an area counts as near its limit. */
export const NEAR_LIMIT_RATIO = 0.9;
/** Share of the limit above which a working face is critical. */
export const CRITICAL_LIMIT_RATIO = 1.2;

export function areaStatus(a: AreaLoad): AreaStatus {
  if (a.violations.length > 0) {
    return 'violation';
  }
  const persons = a.persons ?? 0;
  if (a.type === 'restricted' && persons > 0) {
    return 'over';
  }
  if (a.limit !== undefined && a.limit > 0) {
    if (a.type === 'key' && persons > a.limit * CRITICAL_LIMIT_RATIO) {
      return 'critical';
    }
    if (persons > a.limit) {
      return 'over';
    }
    if (persons >= a.limit * NEAR_LIMIT_RATIO) {
      return 'near';
    }
  }
  return persons > 0 ? 'normal' : 'empty';
}

/** Fill and outline colours per status, readable on dark and light themes. */
export const STATUS_COLOURS: Record<AreaStatus, { fill: string; stroke: string }> = {
  empty: { fill: 'rgba(128, 128, 128, 0.12)', stroke: 'rgba(128, 128, 128, 0.7)' },
  normal: { fill: 'rgba(86, 166, 75, 0.22)', stroke: 'rgb(86, 166, 75)' },
  near: { fill: 'rgba(250, 222, 42, 0.30)', stroke: 'rgb(224, 180, 0)' },
  over: { fill: 'rgba(255, 120, 10, 0.35)', stroke: 'rgb(255, 120, 10)' },
  critical: { fill: 'rgba(242, 73, 92, 0.45)', stroke: 'rgb(242, 73, 92)' },
  violation: { fill: 'rgba(196, 22, 42, 0.50)', stroke: 'rgb(196, 22, 42)' },
};

export function statusColour(s: AreaStatus) {
  return STATUS_COLOURS[s];
}
