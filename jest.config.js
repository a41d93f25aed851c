/**
 * Jest runs the compiled ES modules in dist/ (`npm test` builds first). Two suites run only in
 * their own lanes: the live tests against the real services (`npm run test:live`, where
 * credentials are set) and the container image's (`npm run test:image`, which builds it first).
 */
const lane = process.env['INVOCA_LIVE_TESTS'] === '1' ? 'live' : process.env['INVOCA_IMAGE_TESTS'] === '1' ? 'image' : undefined;
const ownLanes = ['/dist/test/live/', '/dist/test/image/'];
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/dist/test'],
  testMatch: lane ? [`**/${lane}/*.test.js`] : ['**/*.test.js'],
  testPathIgnorePatterns: lane ? ['/node_modules/'] : ['/node_modules/', ...ownLanes],
  transform: {},
  // Under Jest the driver is loaded before a test module's own imports run: turn snowflake-sdk's
  // cloud metadata probing off first, as src/load/snowflake-no-probe.ts does for the bins.
  setupFiles: ['<rootDir>/dist/src/load/snowflake-no-probe.js'],
  testTimeout: 60000,
};
