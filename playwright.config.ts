import { defineConfig } from '@playwright/test';

// One suite, two ways in: Debian's Chromium against `novacron serve`, and the real
// Electron window where an Electron binary exists (elsewhere that project says why it skips).
export default defineConfig({
  testDir: 'tests/e2e',
  workers: 1,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  projects: [{ name: 'web' }, { name: 'electron' }],
});
