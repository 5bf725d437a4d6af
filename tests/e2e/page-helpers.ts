import type { Locator, Page } from '@playwright/test';

/**
 * Page-side helpers. The tests' tsconfig has no DOM types, so what runs in the page is
 * written as a string expression.
 */

/** Whether an element with this test id ever appeared, however briefly (the progress bar of a fast operation). */
export async function watchFor(page: Page, testId: string): Promise<() => Promise<boolean>> {
  const key = JSON.stringify(testId);
  await page.evaluate(`(() => {
    const seen = (window.__seen ??= {});
    seen[${key}] = false;
    const check = () => { if (document.querySelector('[data-testid=' + JSON.stringify(${key}) + ']')) seen[${key}] = true; };
    new MutationObserver(check).observe(document.body, { subtree: true, childList: true });
  })()`);
  return async () => (await page.evaluate(`window.__seen[${key}] === true`)) === true;
}

/** The test id of the focused element. */
export const focusedTestId = (page: Page) => page.evaluate<string>(`document.activeElement?.getAttribute('data-testid') ?? ''`);

/** The terminal's lines, as xterm shows them. */
export const lines = (term: Locator) => term.locator('.xterm-rows > div').allTextContents().then((rows) => rows.map((r) => r.replace(/\u00a0/g, ' ').trimEnd()));

/** A canvas's pixels reduced to a short fingerprint: changes when anything is drawn differently. */
export const fingerprint = (canvas: Locator) =>
  canvas.evaluate((c: { toDataURL(): string }) => {
    const s = c.toDataURL();
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
    return h;
  });

/** Close every toast (other suites share this machine's engines, and their changes are notified too): for a clean screenshot. */
export const dismissToasts = (page: Page) => page.evaluate(`document.querySelectorAll('.toasts button[aria-label="Dismiss"]').forEach((b) => b.click())`);

/** A screenshot for the docs, without the toasts of whatever else runs on this machine. */
export async function docShot(page: Page, name: string, opts: { fullPage?: boolean } = { fullPage: true }): Promise<void> {
  await dismissToasts(page);
  await page.screenshot({ path: `docs/screenshots/${name}.png`, ...opts });
}
