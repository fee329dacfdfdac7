import { areaStatus } from './status';

describe('area status', () => {
  it.each([
    ['empty', { type: 'key', persons: 0, limit: 16, violations: [] }],
    ['empty', { type: 'other', violations: [] }],
    ['normal', { type: 'key', persons: 10, limit: 16, violations: [] }],
    ['near', { type: 'key', persons: 15, limit: 16, violations: [] }],
    ['near', { type: 'key', persons: 16, limit: 16, violations: [] }],
    ['over', { type: 'key', persons: 17, limit: 16, violations: [] }],
    ['over', { type: 'key', persons: 19, limit: 16, violations: [] }],
    ['critical', { type: 'key', persons: 20, limit: 16, violations: [] }],
    ['over', { type: 'other', persons: 30, limit: 16, violations: [] }],
    ['over', { type: 'restricted', persons: 1, violations: [] }],
    ['normal', { type: 'other', persons: 3, violations: [] }],
    ['violation', { type: 'key', persons: 2, limit: 16, violations: ['overcrowding_area'] }],
    ['violation', { type: 'restricted', persons: 0, violations: ['restricted_area'] }],
  ] as const)('%s for %j', (want, load) => {
    expect(areaStatus({ ...load, violations: [...load.violations] })).toBe(want);
  });

  it('treats a zero limit as no limit', () => {
    expect(areaStatus({ type: 'other', persons: 5, limit: 0, violations: [] })).toBe('normal');
  });
});
