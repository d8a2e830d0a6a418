/** Jest runs the TypeScript sources as native ES modules (see package.json "test:jest"). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testTimeout: 30000,
  // Drops notices that say nothing about the code under test (the SDK's Node.js notice, CDK's bundling lines).
  setupFiles: ['<rootDir>/test/support/quiet-notices.ts'],
};
