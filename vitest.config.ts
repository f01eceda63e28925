import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'shared/**/*.test.ts', 'bridge/**/*.test.ts', 'server/**/*.test.ts', 'cli/**/*.test.ts'],
    // 2 cores here: more workers only fight over them.
    maxWorkers: 2,
    testTimeout: 30_000,
  },
});
