import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test as base, chromium, _electron, type Browser, type ElectronApplication, type Page } from '@playwright/test';
import { serve } from '../helpers/cli.js';
import { removeNamespace, testNamespace } from '../helpers/containerd.js';
import { tempHome } from '../helpers/home.js';
import { purgeHome } from '../helpers/core.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export interface App {
  mode: 'web' | 'electron';
  page: Page;
  /** The data dir both the app and the test look at. */
  home: string;
  env: NodeJS.ProcessEnv;
  /** Open a route of the app (`#/drivers`). */
  open(hash: string): Promise<void>;
  /** Web mode only: the server's address and token. */
  server?: { url: string; token: string };
  /** The next window the app opens (a console in its own window): a browser page, or an Electron BrowserWindow. */
  nextWindow(): Promise<Page>;
}

/** Why the Electron project cannot run here, or undefined when it can. */
export function electronUnavailable(): string | undefined {
  let bin: unknown;
  try {
    bin = createRequire(import.meta.url)('electron');
  } catch (e) {
    return `no Electron binary (${(e as Error).message.split('\n')[0]}); install without ELECTRON_SKIP_BINARY_DOWNLOAD to run this part`;
  }
  if (typeof bin !== 'string' || !existsSync(bin)) return 'no Electron binary in node_modules/electron';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'Electron is installed but there is no display (run under xvfb-run)';
  return undefined;
}

let told = false;

/**
 * `app` is per test, over one app per worker: where the Electron binary is missing every
 * test of the electron project is skipped with the reason (never passed empty).
 */
export const test = base.extend<{ app: App }, { shared: App | { skip: string } }>({
  app: async ({ shared }, use) => {
    if ('skip' in shared) {
      if (!told) console.log(`[electron] SKIPPED: the desktop-window run of this suite cannot happen here: ${shared.skip}`);
      told = true;
      base.skip(true, shared.skip);
      return;
    }
    await use(shared);
  },
  shared: [
    // Playwright reads a fixture's dependencies from this pattern: this one has none.
    // eslint-disable-next-line no-empty-pattern
    async ({}, use, workerInfo) => {
      const mode = workerInfo.project.name === 'electron' ? 'electron' : 'web';
      if (mode === 'electron') {
        const why = electronUnavailable();
        if (why) {
          await use({ skip: why });
          return;
        }
      }
      const t = tempHome('nc-e2e-');
      // Containers the suite makes live in a containerd namespace of its own, removed after.
      const namespace = testNamespace('e2e');
      t.env.NOVACRON_CONTAINERD_NAMESPACE = namespace;
      const cleanup = () => {
        removeNamespace(namespace);
        t.cleanup();
      };
      if (mode === 'electron') {
        const app: ElectronApplication = await _electron.launch({ args: ['.'], env: t.env as Record<string, string> });
        const page = await app.firstWindow();
        await page.waitForLoadState('domcontentloaded');
        const root = page.url().split('#')[0]!;
        await use({ mode, page, home: t.home, env: t.env, open: (hash) => fresh(page, `${root}${hash}`), nextWindow: () => app.waitForEvent('window') });
        await app.close();
        await purgeHome(t.env);
        cleanup();
        return;
      }
      const srv = await serve(t.env);
      const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
      await page.goto(srv.loginUrl);
      await use({
        mode,
        page,
        home: t.home,
        env: t.env,
        server: { url: srv.url, token: srv.token },
        open: (hash) => fresh(page, `${srv.url}${hash}`),
        nextWindow: () => page.context().waitForEvent('page'),
      });
      await browser.close();
      await srv.stop();
      await purgeHome(t.env);
      cleanup();
    },
    { scope: 'worker' },
  ],
});

/**
 * The page is shared by a worker's tests: each open() loads it afresh, so one test's
 * filters, dialogs and open tabs are not the next one's starting point (a change of the
 * hash alone would keep them).
 */
async function fresh(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.reload();
}

export { expect } from '@playwright/test';
