import { defineConfig } from '@playwright/test';
import type { Options } from './e2e/support/test.ts';
import { findChromium } from './scripts/provision.mjs';

// The one answer to "where is Chromium" (scripts/provision.mjs: Debian's, else Playwright's
// own); when there is none, the global setup stops with the command that installs one.
const executablePath = findChromium();

export default defineConfig<Options>({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: 'reports/e2e.json' }]],
  globalSetup: './e2e/support/global-setup.ts',
  // Every scenario of e2e/*.spec.ts runs twice: as is, and behind EasyList + EasyPrivacy
  // (e2e/support/adblock.ts). The tracker's own specs and the screenshot run once.
  projects: [
    { name: 'chromium' },
    { name: 'chromium+adblock', use: { adblock: true }, testIgnore: ['tracker/**', 'parity/**', 'packages/**', 'events-page.spec.ts'] },
  ],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      ...(executablePath ? { executablePath } : {}),
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    },
  },
});
