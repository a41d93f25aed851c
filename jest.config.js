/**
 * Jest runs the compiled ES modules in dist/ (`npm test` builds first). The live tests against
 * the real services run only in their own lane (`npm run test:live`), where credentials are set.
 */
const live = process.env['INVOCA_LIVE_TESTS'] === '1';
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/dist/test'],
  testMatch: live ? ['**/live/*.test.js'] : ['**/*.test.js'],
  testPathIgnorePatterns: live ? ['/node_modules/'] : ['/node_modules/', '/dist/test/live/'],
  transform: {},
  testTimeout: 60000,
};
