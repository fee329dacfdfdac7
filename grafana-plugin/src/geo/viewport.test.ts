import { fitBounds, pan, scaleBarMetres, toScreen, toWorld, zoomAt } from './viewport';

describe('viewport', () => {
  const bounds = { minX: 1000, minY: 500, maxX: 2000, maxY: 1000 };

  it('fits bounds centred with y flipped', () => {
    const v = fitBounds(bounds, 1020, 520, 10);
    expect(v.scale).toBeCloseTo(1, 6); // 1000 m into 1000 px
    const [x0, y0] = toScreen(v, 1000, 1000); // north-west corner
    expect(x0).toBeCloseTo(10);
    expect(y0).toBeCloseTo(10);
    const [x1, y1] = toScreen(v, 2000, 500); // south-east corner
    expect(x1).toBeCloseTo(1010);
    expect(y1).toBeCloseTo(510);
  });

  it('fits the narrower dimension', () => {
    const v = fitBounds(bounds, 420, 1000, 10);
    expect(v.scale).toBeCloseTo(0.4);
    const [cx, cy] = toScreen(v, 1500, 750);
    expect(cx).toBeCloseTo(210);
    expect(cy).toBeCloseTo(500);
  });

  it('gives a single point a 50 m window', () => {
    const v = fitBounds({ minX: 5, minY: 5, maxX: 5, maxY: 5 }, 100, 100, 0);
    expect(v.scale).toBeCloseTo(2);
  });

  it('round-trips screen and world', () => {
    const v = fitBounds(bounds, 800, 600);
    const [sx, sy] = toScreen(v, 1234.5, 678.9);
    const [wx, wy] = toWorld(v, sx, sy);
    expect(wx).toBeCloseTo(1234.5, 6);
    expect(wy).toBeCloseTo(678.9, 6);
  });

  it('zooms about the cursor', () => {
    const v = fitBounds(bounds, 800, 600);
    const before = toWorld(v, 300, 200);
    const z = zoomAt(v, 2, 300, 200);
    expect(z.scale).toBeCloseTo(v.scale * 2);
    const after = toWorld(z, 300, 200);
    expect(after[0]).toBeCloseTo(before[0], 6);
    expect(after[1]).toBeCloseTo(before[1], 6);
  });

  it('clamps zoom', () => {
    let v = fitBounds(bounds, 800, 600);
    for (let i = 0; i < 50; i++) {
      v = zoomAt(v, 10, 0, 0);
    }
    expect(v.scale).toBe(200);
  });

  it('pans in pixels', () => {
    const v = fitBounds(bounds, 800, 600);
    const p = pan(v, 15, -5);
    const [x, y] = toScreen(p, 1500, 750);
    const [x0, y0] = toScreen(v, 1500, 750);
    expect(x - x0).toBeCloseTo(15);
    expect(y - y0).toBeCloseTo(-5);
  });

  it('picks a round scale bar', () => {
    expect(scaleBarMetres({ scale: 1, offsetX: 0, offsetY: 0 }, 120)).toBe(100);
    expect(scaleBarMetres({ scale: 0.5, offsetX: 0, offsetY: 0 }, 120)).toBe(200);
    expect(scaleBarMetres({ scale: 0.2, offsetX: 0, offsetY: 0 }, 120)).toBe(500);
    expect(scaleBarMetres({ scale: 10, offsetX: 0, offsetY: 0 }, 120)).toBe(10);
  });
});
