import { bootSectorImage, bootSectorWhy, BOOT_BANNER } from '../helpers/guests.js';
import { libvirtWhy, removeDomains, uniqueDomain, virsh } from '../helpers/libvirt.js';
import { expect, test } from './fixtures.js';
import { docShot } from './page-helpers.js';

const why = libvirtWhy() ?? bootSectorWhy();

test.describe.configure({ mode: 'serial' });

test('a libvirt domain from the VM form: its VNC console and serial terminal in the browser, undefined after the confirmation', async ({ app }) => {
  test.skip(why !== undefined && process.env.CI !== 'true', why ?? '');
  const { page } = app;
  const name = uniqueDomain('e2e');
  try {
    await app.open('#/workloads');
    await page.getByTestId('create-libvirt').click();
    await expect(page.getByRole('heading', { name: 'New libvirt domain' })).toBeVisible();
    // The kvm form's own rules, as you type.
    await page.getByTestId('field-name').fill('a/b');
    await expect(page.getByTestId('error-name')).toHaveText("must not contain '/'");
    await page.getByTestId('field-name').fill(name);
    await page.getByTestId('field-memoryMB').fill('32');
    await page.getByTestId('field-diskKind').selectOption('clone');
    await page.getByTestId('field-disk').fill(bootSectorImage());
    await page.getByTestId('field-accel').selectOption('tcg');
    await page.getByTestId('create-submit').click();

    const badge = page.locator('[data-testid^="detail-state-"]');
    await expect(badge).toHaveText('running', { timeout: 30_000 });
    const id = (await badge.getAttribute('data-testid'))!.replace('detail-state-', '');
    expect(id).toMatch(/^libvirt:[0-9a-f-]{36}$/);
    expect(virsh(['domstate', name]).trim()).toBe('running');

    // noVNC through the core's proxy, to the domain's VNC socket from domdisplay.
    await page.getByTestId('tab-console').click();
    await expect(page.getByTestId('console-status')).toHaveText('connected', { timeout: 20_000 });
    const canvas = page.getByTestId(`vnc-${id}`).locator('canvas');
    await expect(canvas).toBeVisible();
    await expect.poll(() => canvas.evaluate((c: { width: number; height: number }) => `${c.width}x${c.height}`)).toBe('720x400');
    if (app.mode === 'web') await docShot(page, 'libvirt-console');

    // The serial console, on the domain's PTY.
    await page.getByTestId('tab-terminal').click();
    await expect(page.getByTestId('terminal-status')).toHaveText('open', { timeout: 15_000 });
    const term = page.getByTestId(`terminal-${id}`);
    await term.scrollIntoViewIfNeeded();
    await expect(term).toContainText(BOOT_BANNER, { timeout: 15_000 });
    await term.click();
    await page.keyboard.type('hello-libvirt');
    await expect(term).toContainText('hello-libvirt', { timeout: 10_000 });

    // Delete asks first; the confirmation is what lets the domain be undefined.
    await page.getByTestId(`action-delete-${id}`).click();
    await page.getByTestId('confirm-ok').click();
    await expect(page.getByTestId('workload-rows')).toBeVisible({ timeout: 20_000 });
    await expect(page.getByTestId(`workload-row-${id}`)).toHaveCount(0);
    // The row can leave the (virtualised) list before the undefine is done on a host with many workloads.
    await expect.poll(() => virsh(['list', '--all', '--name']), { timeout: 20_000 }).not.toContain(name);
  } finally {
    removeDomains(name);
  }
});
