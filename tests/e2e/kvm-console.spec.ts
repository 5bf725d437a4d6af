import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BOOT_BANNER, BOOT_SCREEN, bootSectorImage, bootSectorWhy } from '../helpers/guests.js';
import { qemuWhy } from '../helpers/qemu.js';
import { expect, test } from './fixtures.js';
import { docShot } from './page-helpers.js';
import { canvasPixels, sameness, screendump } from './vnc-pixels.js';

const why = qemuWhy() ?? bootSectorWhy();

/** The part of a canvas element the page-side callbacks use (the tests' tsconfig has no DOM types). */
interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } };
}

/** The VGA DAC's 6-bit colours come out a few steps off the nominal 8-bit ones. */
const near = (px: readonly number[], want: readonly number[]) => px.every((v, i) => Math.abs(v - want[i]!) <= 8);

test.describe.configure({ mode: 'serial' });

test('a VM from the create form, its VNC console in the browser showing the guest’s screen, and its serial terminal', async ({ app }) => {
  test.skip(why !== undefined && process.env.CI !== 'true', why ?? '');
  const { page } = app;
  const image = bootSectorImage();
  await app.open('#/workloads');
  await page.getByTestId('create-kvm').click();

  // Checked as you type, then by the core for what only it knows.
  await page.getByTestId('field-name').fill('a/b');
  await expect(page.getByTestId('error-name')).toHaveText("must not contain '/'");
  await page.getByTestId('field-name').fill('e2e-vm');
  await page.getByTestId('field-memoryMB').fill('32');
  await page.getByTestId('field-diskKind').selectOption('clone');
  await page.getByTestId('field-disk').fill('/no/such/base.img');
  await page.getByTestId('field-accel').selectOption('tcg');
  await page.getByTestId('create-submit').click();
  await expect(page.getByTestId('error-disk')).toHaveText('/no/such/base.img does not exist');
  await page.getByTestId('field-disk').fill(image);
  await page.getByTestId('create-submit').click();

  const badge = page.locator('[data-testid^="detail-state-"]');
  await expect(badge).toHaveText('running', { timeout: 30_000 });
  const id = (await badge.getAttribute('data-testid'))!.replace('detail-state-', '');
  expect(id).toMatch(/^kvm:[0-9a-f]{12}$/);
  await expect(page.getByTestId('runtime-accel')).toHaveText('tcg');
  await expect(page.getByTestId(`detail-runtime-${id}`)).toHaveText('tcg');

  // The console: noVNC through the core's proxy, compared pixel by pixel with QEMU's own screendump.
  const qmp = (await page.getByTestId('runtime-qmp_socket').textContent())!;
  await page.getByTestId('tab-console').click();
  await expect(page.getByTestId('console-status')).toHaveText('connected', { timeout: 20_000 });
  const canvas = page.getByTestId(`vnc-${id}`).locator('canvas');
  await expect(canvas).toBeVisible();
  await expect.poll(() => canvas.evaluate((c: Canvas) => `${c.width}x${c.height}`)).toBe('720x400');
  await expect
    .poll(async () => {
      const [truth, shot] = await Promise.all([screendump(qmp), canvasPixels(canvas)]);
      let banner = 0;
      let blue = 0;
      for (let j = 0; j < shot.px.length; j += 4) {
        const px = j / 4;
        const [x, y] = [px % 720, Math.floor(px / 720)];
        const [r, g, b] = [shot.px[j]!, shot.px[j + 1]!, shot.px[j + 2]!];
        if (y < 16 && x < BOOT_BANNER.length * 9 && near([r, g, b], BOOT_SCREEN.text)) banner++;
        if (near([r, g, b], BOOT_SCREEN.background)) blue++;
      }
      return { sameAsQemu: sameness(truth, shot) > 0.99, bannerGlyphPixels: banner > 200, mostlyBlue: blue / (720 * 400) > 0.8 };
    }, { timeout: 20_000 })
    .toEqual({ sameAsQemu: true, bannerGlyphPixels: true, mostlyBlue: true });
  if (app.mode === 'web') await docShot(page, 'kvm-console');

  // The serial console: the banner (from the serial log), and what we type comes back.
  await page.getByTestId('tab-terminal').click();
  const term = page.getByTestId(`terminal-${id}`);
  // xterm renders only while it is on screen.
  await term.scrollIntoViewIfNeeded();
  await expect(term).toContainText(BOOT_BANNER, { timeout: 15_000 });
  await term.click();
  await page.keyboard.type('hello-e2e');
  await expect(term).toContainText('hello-e2e', { timeout: 10_000 });

  // Pause and resume from the buttons: QEMU's own status follows.
  await page.getByTestId(`action-pause-${id}`).click();
  await expect(badge).toHaveText('paused');
  await page.getByTestId('tab-overview').click();
  await expect(page.getByTestId('runtime-qemu_status')).toHaveText('paused');
  await page.getByTestId(`action-resume-${id}`).click();
  await expect(badge).toHaveText('running');

  await page.getByTestId(`action-delete-${id}`).click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('workload-list')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId(`workload-row-${id}`)).toHaveCount(0);
  expect(() => readFileSync(join(app.home, 'vms', id.slice(4), 'definition.json'))).toThrow();
});
