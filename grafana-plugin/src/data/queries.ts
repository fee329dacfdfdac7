import { Role } from './frames';

export type Flavour = 'victoriametrics' | 'prometheus';

export interface MineQuery {
  refId: Role;
  expr: string;
}

/**
 * Returns the instant queries that feed the map and the rescue list for
 * one mine. Positions look back over `window` with last_over_time, so
 * everyone last seen underground stays listed after positioning data stops
 * arriving. The fix time is the timestamp of each card's last raw sample:
 * VictoriaMetrics has tlast_over_time for that, and Prometheus needs a
 * subquery over timestamp(), which is exact to the sample but costs one
 * evaluation per minute of the window.
 */
export function mineQueries(mineId: string, window = '12h', flavour: Flavour = 'victoriametrics'): MineQuery[] {
  const m = `mine_id="${mineId}"`;
  const fixTime =
    flavour === 'victoriametrics'
      ? `max by (mine_id, card) (tlast_over_time(mine_person_position_meters{${m},axis="x"}[${window}]))`
      : `max by (mine_id, card) (max_over_time(timestamp(mine_person_position_meters{${m},axis="x"})[${window}:1m]))`;
  return [
    { refId: 'positions', expr: `last_over_time(mine_person_position_meters{${m}}[${window}])` },
    { refId: 'fix_time', expr: fixTime },
    {
      refId: 'underground',
      expr: `max by (mine_id, card) (last_over_time(mine_person_underground_seconds{${m}}[${window}]))`,
    },
    { refId: 'sos', expr: `max by (mine_id, card) (last_over_time(mine_person_sos{${m}}[15m]))` },
    { refId: 'vehicles', expr: `last_over_time(mine_vehicle_position_meters{${m}}[15m])` },
    // RYSS files arrive every 5 minutes: look back three intervals.
    { refId: 'area_persons', expr: `max by (mine_id, area, area_type) (last_over_time(mine_area_persons{${m}}[15m]))` },
    {
      refId: 'area_limits',
      expr: `max by (mine_id, area, area_type) (last_over_time(mine_area_persons_limit{${m}}[1d]))`,
    },
    { refId: 'alerts', expr: `ALERTS{${m},alertstate="firing"}` },
    { refId: 'stations', expr: `last_over_time(mine_station_position_meters{${m}}[1d])` },
    { refId: 'station_up', expr: `max by (mine_id, station) (last_over_time(mine_station_up{${m}}[15m]))` },
  ];
}
