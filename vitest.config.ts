import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'functions/**/*.test.ts', 'edge-agent/**/*.test.ts', 'cdk/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Fails any test file whose output holds an API key or a passcode message: logs are read by operators who
    // must never see either.
    setupFiles: ['test/support/log-guard.ts'],
  },
});
