import { DataFrame, FieldType, Labels } from '@grafana/data';

/**
 * Role of a query's result in the map. A frame's role comes from its query's
 * refId when the refId is one of these names, else from the metric name
 * (__name__ label), else from its labels.
 */
export type Role =
  | 'positions' // mine_person_position_meters{card, axis, source}
  | 'vehicles' // mine_vehicle_position_meters{vehicle, axis}
  | 'fix_time' // seconds since the epoch of each card's last fix, {card}
  | 'underground' // mine_person_underground_seconds{card}
  | 'sos' // mine_person_sos{card}
  | 'area_persons' // mine_area_persons{area, area_type}
  | 'area_limits' // mine_area_persons_limit{area, area_type}
  | 'alerts' // ALERTS{alertname, violation, area?, alertstate}
  | 'stations' // mine_station_position_meters{station, axis}
  | 'station_up'; // mine_station_up{station}

export const ROLES: Role[] = [
  'positions',
  'vehicles',
  'fix_time',
  'underground',
  'sos',
  'area_persons',
  'area_limits',
  'alerts',
  'stations',
  'station_up',
];

const METRIC_ROLES: Record<string, Role> = {
  mine_person_position_meters: 'positions',
  mine_vehicle_position_meters: 'vehicles',
  mine_person_underground_seconds: 'underground',
  mine_person_sos: 'sos',
  mine_area_persons: 'area_persons',
  mine_area_persons_limit: 'area_limits',
  ALERTS: 'alerts',
  mine_station_position_meters: 'stations',
  mine_station_up: 'station_up',
};

export interface Tag {
  id: string;
  kind: 'person' | 'vehicle';
  x: number;
  y: number;
  /** NaN when no z fix is known. */
  z: number;
  source?: string;
  /** Time of the last fix in ms since the epoch; NaN when unknown. */
  fixTime: number;
  undergroundSeconds?: number;
  sos: boolean;
}

export interface AlertInfo {
  alertname: string;
  violation: string;
  severity: string;
  area?: string;
  card?: string;
}

export interface StationState {
  code: string;
  x: number;
  y: number;
  z: number;
  up?: boolean;
}

export interface MineData {
  people: Map<string, Tag>;
  vehicles: Map<string, Tag>;
  areaPersons: Map<string, number>;
  areaLimits: Map<string, number>;
  alerts: AlertInfo[];
  stations: Map<string, StationState>;
  /** Newest fix of any person, ms since the epoch; NaN without data. */
  newestFix: number;
}

interface Sample {
  labels: Labels;
  value: number;
  time: number;
}

/** Returns the role of a frame, or undefined for frames the map does not use. */
export function roleOf(frame: DataFrame, labels: Labels): Role | undefined {
  const ref = frame.refId ?? '';
  if ((ROLES as string[]).includes(ref)) {
    return ref as Role;
  }
  const name = labels.__name__;
  if (name && METRIC_ROLES[name]) {
    return METRIC_ROLES[name];
  }
  if (labels.alertname !== undefined) {
    return 'alerts';
  }
  if (labels.axis !== undefined) {
    if (labels.card !== undefined) {
      return 'positions';
    }
    if (labels.vehicle !== undefined) {
      return 'vehicles';
    }
    if (labels.station !== undefined) {
      return 'stations';
    }
  }
  return undefined;
}

/**
 * Returns the last non-null sample of each number field of a time-series
 * frame, with that field's labels. Prometheus and VictoriaMetrics results
 * in Grafana are one frame per series: a time field and a value field that
 * carries the labels.
 */
function lastSamples(frame: DataFrame, out: Sample[]) {
  const timeField = frame.fields.find((f) => f.type === FieldType.time);
  for (const field of frame.fields) {
    if (field.type !== FieldType.number) {
      continue;
    }
    const values = field.values as ArrayLike<number | null>;
    for (let i = values.length - 1; i >= 0; i--) {
      const v = values[i];
      if (v !== null && v !== undefined && !Number.isNaN(v)) {
        const t = timeField ? Number((timeField.values as ArrayLike<number>)[i]) : NaN;
        out.push({ labels: field.labels ?? {}, value: v, time: t });
        break;
      }
    }
  }
}

function tagFor(map: Map<string, Tag>, id: string, kind: Tag['kind']): Tag {
  let t = map.get(id);
  if (!t) {
    t = { id, kind, x: NaN, y: NaN, z: NaN, fixTime: NaN, sos: false };
    map.set(id, t);
  }
  return t;
}

function setAxis(t: Tag, axis: string, value: number) {
  if (axis === 'x') {
    t.x = value;
  } else if (axis === 'y') {
    t.y = value;
  } else if (axis === 'z') {
    t.z = value;
  }
}

/**
 * Collects one mine's state from query results. Series of other mines
 * (a mine_id label that differs) are ignored, so one query can serve many
 * panels. People and vehicles without both x and y are dropped.
 */
export function readFrames(frames: DataFrame[], mineId: string): MineData {
  const data: MineData = {
    people: new Map(),
    vehicles: new Map(),
    areaPersons: new Map(),
    areaLimits: new Map(),
    alerts: [],
    stations: new Map(),
    newestFix: NaN,
  };
  const fixTimes = new Map<string, number>();
  const samples: Sample[] = [];

  for (const frame of frames) {
    samples.length = 0;
    lastSamples(frame, samples);
    for (const s of samples) {
      const l = s.labels;
      if (mineId && l.mine_id !== undefined && l.mine_id !== mineId) {
        continue;
      }
      const role = roleOf(frame, l);
      switch (role) {
        case 'positions': {
          if (!l.card) {
            break;
          }
          const t = tagFor(data.people, l.card, 'person');
          // A UWB fix (metre-level) wins over a station-level position.
          if (t.source === 'uwb' && l.source !== 'uwb') {
            break;
          }
          setAxis(t, l.axis, s.value);
          t.source = l.source ?? t.source;
          if (!(t.fixTime >= s.time)) {
            t.fixTime = s.time;
          }
          break;
        }
        case 'vehicles': {
          const id = l.vehicle ?? l.tag;
          if (!id) {
            break;
          }
          const t = tagFor(data.vehicles, id, 'vehicle');
          setAxis(t, l.axis, s.value);
          if (!(t.fixTime >= s.time)) {
            t.fixTime = s.time;
          }
          break;
        }
        case 'fix_time':
          if (l.card) {
            fixTimes.set(l.card, Math.max(fixTimes.get(l.card) ?? 0, s.value * 1000));
          }
          break;
        case 'underground':
          if (l.card) {
            tagFor(data.people, l.card, 'person').undergroundSeconds = s.value;
          }
          break;
        case 'sos':
          if (l.card) {
            tagFor(data.people, l.card, 'person').sos = s.value > 0;
          }
          break;
        case 'area_persons':
          if (l.area) {
            data.areaPersons.set(l.area, Math.max(data.areaPersons.get(l.area) ?? 0, s.value));
          }
          break;
        case 'area_limits':
          if (l.area) {
            data.areaLimits.set(l.area, s.value);
          }
          break;
        case 'alerts':
          if (s.value > 0 && (l.alertstate === undefined || l.alertstate === 'firing')) {
            data.alerts.push({
              alertname: l.alertname ?? '',
              violation: l.violation ?? l.alertname ?? '',
              severity: l.severity ?? '',
              area: l.area,
              card: l.card,
            });
          }
          break;
        case 'stations': {
          if (!l.station) {
            break;
          }
          let st = data.stations.get(l.station);
          if (!st) {
            st = { code: l.station, x: NaN, y: NaN, z: NaN };
            data.stations.set(l.station, st);
          }
          if (l.axis === 'x' || l.axis === 'y' || l.axis === 'z') {
            st[l.axis] = s.value;
          }
          break;
        }
        case 'station_up':
          if (l.station) {
            const st = data.stations.get(l.station) ?? { code: l.station, x: NaN, y: NaN, z: NaN };
            st.up = s.value > 0;
            data.stations.set(l.station, st);
          }
          break;
      }
    }
  }

  for (const [card, t] of data.people) {
    const fix = fixTimes.get(card);
    if (fix !== undefined) {
      t.fixTime = fix;
    }
    if (Number.isNaN(t.x) || Number.isNaN(t.y)) {
      data.people.delete(card);
      continue;
    }
    if (!(data.newestFix >= t.fixTime)) {
      data.newestFix = t.fixTime;
    }
  }
  for (const [id, t] of data.vehicles) {
    if (Number.isNaN(t.x) || Number.isNaN(t.y)) {
      data.vehicles.delete(id);
    }
  }
  return data;
}
