import { defineConfig } from 'vitest/config';

// The Next.js example, built (`next build`) and started (`next start`) for real: a minute or
// more on two cores, so it runs as its own suite (`npm run test:next`, part of `npm test`)
// instead of beside the unit tests.
export default defineConfig({
  test: {
    include: ['test/examples/nextjs.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    reporters: ['default', ['json', { outputFile: 'reports/next.json' }]],
  },
});
