import { createDataFrame, FieldType } from '@grafana/data';
import { readFrames, roleOf } from './frames';
import { position, series } from './testframes';

const T = Date.UTC(2026, 10, 20, 14, 15);

describe('readFrames', () => {
  it('assembles people from axis series', () => {
    const d = readFrames([...position('c1', 1400, 570, -430, T)], '320382000101');
    const c1 = d.people.get('c1')!;
    expect([c1.x, c1.y, c1.z]).toEqual([1400, 570, -430]);
    expect(c1.fixTime).toBe(T);
    expect(c1.source).toBe('station');
    expect(d.newestFix).toBe(T);
  });

  it('ignores other mines', () => {
    const d = readFrames([...position('c1', 1, 2, 3, T, 'station', '320382000202')], '320382000101');
    expect(d.people.size).toBe(0);
  });

  it('takes the fix time from a fix_time series', () => {
    const d = readFrames(
      [
        ...position('c1', 1, 2, 3, T),
        series('fix_time', { mine_id: '320382000101', card: 'c1' }, (T - 600000) / 1000, T),
      ],
      '320382000101'
    );
    expect(d.people.get('c1')!.fixTime).toBe(T - 600000);
  });

  it('prefers UWB over station positions', () => {
    const d = readFrames(
      [...position('c1', 1, 2, 3, T, 'uwb'), ...position('c1', 100, 200, 300, T, 'station')],
      '320382000101'
    );
    expect(d.people.get('c1')!.x).toBe(1);
    const e = readFrames(
      [...position('c1', 100, 200, 300, T, 'station'), ...position('c1', 1, 2, 3, T, 'uwb')],
      '320382000101'
    );
    expect(e.people.get('c1')!.x).toBe(1);
  });

  it('drops cards without x and y', () => {
    const d = readFrames([series('positions', { card: 'c9', axis: 'x' }, 5, T)], '');
    expect(d.people.size).toBe(0);
  });

  it('reads areas, alerts and vehicles', () => {
    const m = { mine_id: '320382000101' };
    const d = readFrames(
      [
        series('area_persons', { ...m, area: 'a1', area_type: 'key' }, 17, T),
        series('area_limits', { ...m, area: 'a1', area_type: 'key' }, 16, T),
        series(
          'alerts',
          { ...m, alertname: 'OvercrowdingArea', violation: 'overcrowding_area', area: 'a1', alertstate: 'firing' },
          1,
          T
        ),
        series('alerts', { ...m, alertname: 'X', violation: 'pending_one', alertstate: 'pending' }, 1, T),
        series('vehicles', { ...m, vehicle: 'V1', axis: 'x' }, 10, T),
        series('vehicles', { ...m, vehicle: 'V1', axis: 'y' }, 20, T),
      ],
      '320382000101'
    );
    expect(d.areaPersons.get('a1')).toBe(17);
    expect(d.areaLimits.get('a1')).toBe(16);
    expect(d.alerts).toEqual([
      { alertname: 'OvercrowdingArea', violation: 'overcrowding_area', severity: '', area: 'a1', card: undefined },
    ]);
    expect(d.vehicles.get('V1')).toMatchObject({ x: 10, y: 20, kind: 'vehicle' });
  });

  it('takes the last non-null sample of a range result', () => {
    const frame = createDataFrame({
      refId: 'positions',
      fields: [
        { name: 'Time', type: FieldType.time, values: [T - 2000, T - 1000, T] },
        { name: 'Value', type: FieldType.number, values: [1, 2, null], labels: { card: 'c1', axis: 'x' } },
      ],
    });
    const d = readFrames([frame, series('positions', { card: 'c1', axis: 'y' }, 0, T - 1000)], '');
    expect(d.people.get('c1')!.x).toBe(2);
    expect(d.people.get('c1')!.fixTime).toBe(T - 1000);
  });

  it('finds roles from metric names and labels', () => {
    const f = series('A', {}, 1, T);
    expect(roleOf(f, { __name__: 'mine_area_persons' })).toBe('area_persons');
    expect(roleOf(f, { alertname: 'x' })).toBe('alerts');
    expect(roleOf(f, { card: 'c', axis: 'x' })).toBe('positions');
    expect(roleOf(f, { vehicle: 'v', axis: 'x' })).toBe('vehicles');
    expect(roleOf(f, { foo: 'bar' })).toBeUndefined();
  });
});
