import { readFile } from 'fs/promises';
import path from 'path';
import { parsePlan } from '../geo/plan';
import { MinePlan } from '../geo/types';
import { readFrames } from './frames';
import { rescueCSV, rescueRows, formatDuration } from './rescue';
import { position, series } from './testframes';
import { areaRows } from '../panels/minemap/components/MineView';

const NOW = Date.UTC(2026, 10, 20, 14, 30);
let plan: MinePlan;

beforeAll(async () => {
  const file = path.join(__dirname, '..', '..', '..', 'deploy', 'local', 'plans', '320382000101.geojson');
  plan = parsePlan(JSON.parse(await readFile(file, 'utf8')), '320382000101');
});

describe('rescue list', () => {
  it('lists cards by area with their nearest station', () => {
    const d = readFrames(
      [
        ...position('32038200010100003', 1500, 587, -432, NOW - 30000), // working face 1301
        ...position('32038200010100031', 1790, 640.1, -440, NOW - 30000, 'uwb'), // goaf cross-cut
        ...position('32038200010100001', 1045, 501, -420, NOW - 30000), // shaft mouth
        ...position('32038200010100099', 1200, 800, -430, NOW - 30000), // between areas
      ],
      '320382000101'
    );
    const rows = rescueRows(plan, d, NOW);
    expect(rows.map((r) => r.card)).toEqual([
      '32038200010100003', // 1301综采工作面
      '32038200010100001', // 副井井口
      '32038200010100031', // 采空区密闭
      '32038200010100099', // no area: last
    ]);
    expect(rows[0].areaCode).toBe('3203820001010004');
    expect(rows[0].stationCode).toBe('3203820001010004000001');
    expect(rows[2].areaType).toBe('restricted');
    expect(rows[3].areaCode).toBe('');
    expect(rows[0].ageSeconds).toBe(30);
  });

  it('keeps everyone when the whole feed stopped', () => {
    const hourAgo = NOW - 3600_000;
    const d = readFrames(
      [...position('a', 1500, 587, -432, hourAgo), ...position('b', 1045, 501, -420, hourAgo - 60_000)],
      ''
    );
    const rows = rescueRows(plan, d, NOW);
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.state === 'stale')).toBe(true);
    expect(rows.find((r) => r.card === 'a')!.ageSeconds).toBe(3600);
  });

  it('leaves out cards missing from newer data unless asked', () => {
    const d = readFrames(
      [...position('a', 1500, 587, -432, NOW), ...position('b', 1045, 501, -420, NOW - 3600_000)],
      ''
    );
    expect(rescueRows(plan, d, NOW).map((r) => r.card)).toEqual(['a']);
    const all = rescueRows(plan, d, NOW, undefined, true);
    expect(all.find((r) => r.card === 'b')!.state).toBe('missing');
  });

  it('adds the time since the last fix to time underground', () => {
    const d = readFrames(
      [...position('a', 1500, 587, -432, NOW - 60_000), series('underground', { card: 'a' }, 3600, NOW - 60_000)],
      ''
    );
    expect(rescueRows(plan, d, NOW)[0].undergroundSeconds).toBe(3660);
  });

  it('exports CSV', () => {
    const d = readFrames([...position('a', 1500, 587, -432, NOW - 5000)], '');
    const csv = rescueCSV('320382000101', rescueRows(plan, d, NOW));
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe(
      'mine_id,card,area_code,area_name,area_type,station_code,station_name,x_m,y_m,z_m,source,last_fix_utc,last_fix_age_s,underground_s,fix_state,sos'
    );
    expect(lines[1]).toBe(
      `320382000101,a,3203820001010004,1301综采工作面,key,3203820001010004000001,1301综采工作面1号分站,1500.00,587.00,-432.00,station,${new Date(NOW - 5000).toISOString()},5,,live,0`
    );
  });

  it('quotes and defuses CSV text', () => {
    const row = rescueRows(plan, readFrames([...position('=cmd,"x"', 1500, 587, -432, NOW)], ''), NOW);
    expect(rescueCSV('m', row).split('\r\n')[1].startsWith(`m,"'=cmd,""x"""`)).toBe(true);
  });

  it('formats durations', () => {
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(723)).toBe('12 min 03 s');
    expect(formatDuration(3900)).toBe('1 h 05 min');
    expect(formatDuration(NaN)).toBe('unknown');
  });
});

describe('area colouring from query results', () => {
  it('colours by persons against limit and by firing alerts', () => {
    const m = { mine_id: '320382000101' };
    const d = readFrames(
      [
        series('area_persons', { ...m, area: '3203820001010004', area_type: 'key' }, 17, NOW),
        series('area_limits', { ...m, area: '3203820001010004', area_type: 'key' }, 16, NOW),
        series('area_persons', { ...m, area: '3203820001010005', area_type: 'key' }, 11, NOW),
        series('area_persons', { ...m, area: '3203820001010012', area_type: 'restricted' }, 1, NOW),
        series(
          'alerts',
          { ...m, alertname: 'restricted_area', violation: 'restricted_area', area: '3203820001010012' },
          1,
          NOW
        ),
        series('area_persons', { ...m, area: '3203820001010020', area_type: 'other' }, 2, NOW),
      ],
      '320382000101'
    );
    const rows = new Map(areaRows(plan, d, NOW, { staleAfter: 120, missingAfter: 900 }).map((a) => [a.code, a]));
    expect(rows.get('3203820001010004')!.status).toBe('over');
    expect(rows.get('3203820001010005')!.status).toBe('near'); // 11 of the plan's limit 12
    expect(rows.get('3203820001010012')!.status).toBe('violation');
    expect(rows.get('3203820001010012')!.violations).toEqual(['restricted_area']);
    expect(rows.get('3203820001010020')!.status).toBe('normal');
    expect(rows.get('3203820001010001')!.status).toBe('empty');
  });

  it('counts people in polygons when no area counts arrived', () => {
    const d = readFrames([...position('a', 1500, 587, -432, NOW), ...position('b', 1501, 587, -432, NOW)], '');
    const face = areaRows(plan, d, NOW, { staleAfter: 120, missingAfter: 900 }).find(
      (a) => a.code === '3203820001010004'
    )!;
    expect(face.persons).toBe(2);
  });
});
