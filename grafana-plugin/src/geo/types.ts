/** A position on the mine grid, in metres: x east, y north. */
export type XY = [number, number];

export type AreaType = 'shaft_mouth' | 'key' | 'restricted' | 'other';

/** A named band of elevations, in metres on the mine grid. */
export interface Level {
  name: string;
  zMin: number;
  zMax: number;
}

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export interface Tunnel {
  name: string;
  z: number;
  points: XY[];
  haulage: boolean;
}

export interface Area {
  code: string;
  type: AreaType;
  name: string;
  z: number;
  /** Approved persons from the plan; a mine_area_persons_limit series overrides it. */
  limit?: number;
  /** Outer ring first, then holes; each ring repeats its first position last. */
  rings: XY[][];
  bounds: Bounds;
}

export interface Station {
  code: string;
  name: string;
  z: number;
  position: XY;
}

export interface MinePlan {
  mineId: string;
  levels: Level[];
  tunnels: Tunnel[];
  areas: Area[];
  stations: Station[];
  bounds: Bounds;
}
