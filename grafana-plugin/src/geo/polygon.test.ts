import { pointInPolygon, pointInRing } from './polygon';
import { XY } from './types';

describe('point in polygon', () => {
  const square: XY[] = [
    [0, 0],
    [10, 0],
    [10, 10],
    [0, 10],
    [0, 0],
  ];
  const hole: XY[] = [
    [4, 4],
    [6, 4],
    [6, 6],
    [4, 6],
    [4, 4],
  ];

  it.each([
    [5, 5, true],
    [0.01, 9.99, true],
    [-1, 5, false],
    [11, 5, false],
    [5, 10.5, false],
  ])('square contains (%p, %p): %p', (x, y, want) => {
    expect(pointInRing(x, y, square)).toBe(want);
  });

  it('excludes holes', () => {
    expect(pointInPolygon(5, 5, [square, hole])).toBe(false);
    expect(pointInPolygon(2, 2, [square, hole])).toBe(true);
  });

  it('handles a concave ring', () => {
    // A U shape open to the north: the notch is outside.
    const u: XY[] = [
      [0, 0],
      [9, 0],
      [9, 9],
      [6, 9],
      [6, 3],
      [3, 3],
      [3, 9],
      [0, 9],
      [0, 0],
    ];
    expect(pointInRing(4.5, 6, u)).toBe(false);
    expect(pointInRing(1.5, 6, u)).toBe(true);
    expect(pointInRing(4.5, 1.5, u)).toBe(true);
  });

  it('handles a tilted band like the sample working face', () => {
    const face: XY[] = [
      [1387.54, 552.83],
      [1637.17, 592.54],
      [1632.46, 622.17],
      [1382.83, 582.46],
      [1387.54, 552.83],
    ];
    expect(pointInRing(1400, 570, face)).toBe(true);
    expect(pointInRing(1500, 540, face)).toBe(false);
    expect(pointInPolygon(1620, 605, [face])).toBe(true);
  });
});
