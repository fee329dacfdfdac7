import { readFileSync } from 'fs';
import path from 'path';
import { mineQueries } from './data/queries';

// The provisioned dashboard carries a copy of the map's queries; this keeps
// the copy equal to the code that the rescue page runs.
describe('provisioned mine map dashboard', () => {
  const file = path.join(__dirname, '..', 'provisioning', 'dashboards', 'mine-map.json');
  const dashboard = JSON.parse(readFileSync(file, 'utf8'));

  type Panel = { title: string; type: string; targets: Array<{ refId: string; expr: string; instant: boolean }> };

  for (const panel of dashboard.panels as Panel[]) {
    it(`panel ${panel.title} has the map queries`, () => {
      expect(panel.type).toBe('minewatch-minemap-panel');
      expect(panel.targets.map((t) => ({ refId: t.refId, expr: t.expr }))).toEqual(mineQueries('$mine'));
      expect(panel.targets.every((t) => t.instant)).toBe(true);
    });
  }
});
