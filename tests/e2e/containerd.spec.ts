import { cli } from '../helpers/cli.js';
import { containerdWhy, ctr } from '../helpers/containerd.js';
import { busyboxArchive } from '../helpers/oci-archive.js';
import { expect, test } from './fixtures.js';

const missing = containerdWhy();

test('a gVisor-sandboxed containerd workload from the form through its lifecycle', async ({ app }) => {
  if (missing && process.env.CI === 'true') throw new Error(`containerd is required under CI but missing: ${missing}`);
  test.skip(missing !== undefined, `containerd is not available here: ${missing}`);
  const { page } = app;
  const ns = app.env.NOVACRON_CONTAINERD_NAMESPACE!;
  const imp = await cli(['images', 'import', '--driver', 'containerd', busyboxArchive('docker'), '--name', 'novacron-test/busybox:latest'], app.env);
  expect(imp.code, imp.stderr).toBe(0);

  await app.open('#/workloads');
  await page.getByTestId('create-containerd').click();
  await page.getByTestId('field-name').fill('e2e-box');
  await page.getByTestId('field-image').fill('Not An Image');
  await expect(page.getByTestId('error-image')).toContainText('must');
  await page.getByTestId('field-image').fill('novacron-test/busybox:latest');
  await expect(page.getByTestId('error-image')).toHaveCount(0);
  await page.getByTestId('field-runtime').selectOption('runsc');
  await page.getByTestId('field-cmd').fill('sh');
  await page.getByTestId('field-args').fill('-c\ntrap "exit 0" TERM; while true; do sleep 1; done');
  await page.getByTestId('field-memoryMB').fill('64');
  await page.getByTestId('create-submit').click();

  const id = 'containerd:e2e-box';
  const state = page.getByTestId(`detail-state-${id}`);
  await expect(state).toHaveText('stopped');
  await expect(page.getByTestId(`detail-runtime-${id}`)).toHaveText('runsc');
  expect(ctr(ns, ['containers', 'ls', '-q'])).toContain('e2e-box');

  await page.getByTestId(`action-start-${id}`).click();
  await expect(state).toHaveText('running');
  await expect(page.getByTestId('runtime-sandbox')).toHaveText('runsc');
  await expect(page.getByTestId('live-metrics')).toContainText('containerd');

  await page.getByTestId(`action-stop-${id}`).click();
  await expect(state).toHaveText('stopped');
  await page.getByTestId(`action-delete-${id}`).click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId(`workload-row-${id}`)).toHaveCount(0);
  // The page leaves as soon as the delete is asked for; containerd catches up a moment later.
  await expect.poll(() => ctr(ns, ['containers', 'ls', '-q'])).not.toContain('e2e-box');
});
