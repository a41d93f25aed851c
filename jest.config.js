/** Jest runs the compiled ES modules in dist/ (`npm test` builds first). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/dist/test'],
  testMatch: ['**/*.test.js'],
  transform: {},
  testTimeout: 60000,
};
