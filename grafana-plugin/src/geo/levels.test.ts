import { ALL_LEVELS, filterPlan, levelOf, onLevel } from './levels';
import { parsePlan } from './plan';

const levels = [
  { name: '-430', zMin: -438, zMax: -415 },
  { name: '-450', zMin: -470, zMax: -438 },
];

describe('levels', () => {
  it('finds the level of an elevation', () => {
    expect(levelOf(-420, levels)).toBe('-430');
    expect(levelOf(-450, levels)).toBe('-450');
    expect(levelOf(-500, levels)).toBeUndefined();
  });

  it('gives a shared boundary to the level that starts there', () => {
    expect(levelOf(-438, levels)).toBe('-430');
    expect(levelOf(-415, levels)).toBe('-430');
  });

  it('filters by the selected level', () => {
    expect(onLevel(-420, '-430', levels)).toBe(true);
    expect(onLevel(-420, '-450', levels)).toBe(false);
    expect(onLevel(-420, ALL_LEVELS, levels)).toBe(true);
    expect(onLevel(NaN, '-450', levels)).toBe(true);
  });

  it('filters plan features', () => {
    const plan = parsePlan(
      {
        type: 'FeatureCollection',
        properties: {
          mine_id: '320382000101',
          levels: [
            { name: '-430', z_min: -438, z_max: -415 },
            { name: '-450', z_min: -470, z_max: -438 },
          ],
        },
        features: [
          {
            type: 'Feature',
            properties: { kind: 'tunnel', name: 'upper', z: -420 },
            geometry: {
              type: 'LineString',
              coordinates: [
                [0, 0],
                [1, 1],
              ],
            },
          },
          {
            type: 'Feature',
            properties: { kind: 'tunnel', name: 'lower', z: -460 },
            geometry: {
              type: 'LineString',
              coordinates: [
                [0, 0],
                [1, 1],
              ],
            },
          },
          {
            type: 'Feature',
            properties: { kind: 'station', station_code: '3203820001010001000001', name: 's', z: -461 },
            geometry: { type: 'Point', coordinates: [0, 0] },
          },
        ],
      },
      '320382000101'
    );
    const lower = filterPlan(plan, '-450');
    expect(lower.tunnels.map((t) => t.name)).toEqual(['lower']);
    expect(lower.stations).toHaveLength(1);
    expect(filterPlan(plan, '-430').stations).toHaveLength(0);
    expect(filterPlan(plan, ALL_LEVELS).tunnels).toHaveLength(2);
  });
});
