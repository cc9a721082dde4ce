import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // Files share a worker's module cache instead of re-importing the engine per file: on 2 cores this cuts the
    // import phase of the suite from ~340 core-seconds to ~20 (see CONTRIBUTING.md, "Tests"). The price is that a
    // test file must not leave global state behind (timers, env, module-level registrations): clean up in afterAll.
    isolate: false,
    testTimeout: 20_000,
  },
});
