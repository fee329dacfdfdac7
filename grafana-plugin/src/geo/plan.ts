import { emptyBounds, extendBounds } from './polygon';
import { Area, AreaType, Bounds, Level, MinePlan, Station, Tunnel, XY } from './types';

const AREA_TYPES: AreaType[] = ['shaft_mouth', 'key', 'restricted', 'other'];

interface GeoFeature {
  type: string;
  geometry?: { type: string; coordinates: unknown } | null;
  properties?: Record<string, unknown> | null;
}

/**
 * Converts a mine plan GeoJSON (validated by the backend) into the panel's
 * model. It throws an Error naming the feature when a geometry does not
 * have the shape its kind needs, so a plan from another source cannot draw
 * half a mine silently.
 */
export function parsePlan(doc: unknown, mineId: string): MinePlan {
  const fc = doc as { type?: string; features?: GeoFeature[]; properties?: Record<string, unknown> };
  if (!fc || fc.type !== 'FeatureCollection' || !Array.isArray(fc.features)) {
    throw new Error(`plan of mine ${mineId} is not a GeoJSON FeatureCollection`);
  }
  const plan: MinePlan = {
    mineId: String(fc.properties?.mine_id ?? mineId),
    levels: parseLevels(fc.properties?.levels),
    tunnels: [],
    areas: [],
    stations: [],
    bounds: emptyBounds(),
  };

  fc.features.forEach((f, i) => {
    const p = f.properties ?? {};
    const kind = p.kind;
    const name = String(p.name ?? '');
    const z = typeof p.z === 'number' ? p.z : NaN;
    const where = `plan of mine ${mineId}, feature ${i} (${String(kind)} ${name})`;
    const coords = f.geometry?.coordinates;

    if (kind === 'tunnel') {
      const points = asPositions(coords, where);
      const tunnel: Tunnel = { name, z, points, haulage: p.haulage === true };
      plan.tunnels.push(tunnel);
      points.forEach(([x, y]) => extendBounds(plan.bounds, x, y));
    } else if (kind === 'area') {
      if (!Array.isArray(coords) || coords.length === 0) {
        throw new Error(`${where}: polygon has no rings`);
      }
      const rings = coords.map((r) => asPositions(r, where));
      const bounds = emptyBounds();
      rings[0].forEach(([x, y]) => {
        extendBounds(bounds, x, y);
        extendBounds(plan.bounds, x, y);
      });
      const type = AREA_TYPES.includes(p.area_type as AreaType) ? (p.area_type as AreaType) : 'other';
      const area: Area = {
        code: String(p.area_code ?? ''),
        type,
        name,
        z,
        limit: typeof p.limit === 'number' ? p.limit : undefined,
        rings,
        bounds,
      };
      plan.areas.push(area);
    } else if (kind === 'station') {
      const [x, y] = asPosition(coords, where);
      const station: Station = { code: String(p.station_code ?? ''), name, z, position: [x, y] };
      plan.stations.push(station);
      extendBounds(plan.bounds, x, y);
    }
  });
  return plan;
}

function parseLevels(raw: unknown): Level[] {
  if (!Array.isArray(raw)) {
    return [];
  }
  return raw
    .filter((l) => l && typeof l.name === 'string' && typeof l.z_min === 'number' && typeof l.z_max === 'number')
    .map((l) => ({ name: l.name, zMin: l.z_min, zMax: l.z_max }));
}

function asPosition(c: unknown, where: string): XY {
  if (!Array.isArray(c) || c.length < 2 || typeof c[0] !== 'number' || typeof c[1] !== 'number') {
    throw new Error(`${where}: coordinate ${JSON.stringify(c)} is not [x, y] in metres`);
  }
  return [c[0], c[1]];
}

function asPositions(c: unknown, where: string): XY[] {
  if (!Array.isArray(c)) {
    throw new Error(`${where}: coordinates are not a list of positions`);
  }
  return c.map((p) => asPosition(p, where));
}

/** Returns the bounds of a plan's features, for fitting the view. */
export function planBounds(plan: MinePlan): Bounds {
  return plan.bounds;
}
