import { DataFrame, FieldType, Labels, createDataFrame } from '@grafana/data';

/** Returns a one-sample frame shaped like a Prometheus instant query result in Grafana. */
export function series(refId: string, labels: Labels, value: number, timeMs: number): DataFrame {
  return createDataFrame({
    refId,
    fields: [
      { name: 'Time', type: FieldType.time, values: [timeMs] },
      { name: 'Value', type: FieldType.number, values: [value], labels },
    ],
  });
}

/** Returns the three axis frames of one card's position. */
export function position(
  card: string,
  x: number,
  y: number,
  z: number,
  timeMs: number,
  source = 'station',
  mine = '320382000101'
): DataFrame[] {
  return (['x', 'y', 'z'] as const).map((axis, i) =>
    series('positions', { mine_id: mine, card, axis, source }, [x, y, z][i], timeMs)
  );
}
