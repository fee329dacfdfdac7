// force timezone to UTC to allow tests to work regardless of local timezone
// generally used by snapshots, but can affect specific tests
process.env.TZ = 'UTC';

const base = require('./.config/jest.config');

// d3-color 3.1.1 and other Grafana dependencies ship `.mjs` entry points, which
// the scaffolded transform (`.js`/`.ts` only) leaves untransformed.
const swcTransform = base.transform['^.+\\.(t|j)sx?$'];

module.exports = {
  ...base,
  transform: {
    '^.+\\.(t|j)sx?$': swcTransform,
    '^.+\\.mjs$': swcTransform,
  },
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/tests/'],
};
