import { busyboxImage, cleanupPrefix, docker, dockerWhy, uniquePrefix } from '../helpers/docker.js';
import { expect, test } from './fixtures.js';

const P = uniquePrefix('e2e');
const IMG = `${P}-img:1`;
const d = docker();

test.describe.configure({ mode: 'serial' });
test.beforeAll(async () => {
  const why = dockerWhy();
  if (why && process.env.CI === 'true') throw new Error(`dockerd is required under CI but missing: ${why}`);
  test.skip(why !== undefined, why);
  await busyboxImage(d, IMG);
});
test.afterAll(async () => {
  if (!dockerWhy()) await cleanupPrefix(d, P);
});

test('a container from the form: image from the local list, checked fields, created and running', async ({ app }) => {
  const { page } = app;
  await app.open('#/workloads');
  await page.getByTestId('create-container').click();
  await expect(page.getByTestId('create-container-form')).toBeVisible();

  await page.getByTestId('field-name').fill('a/b');
  await expect(page.getByTestId('error-name')).toHaveText("must not contain '/'");
  await page.getByTestId('field-ports').fill('eighty');
  await expect(page.getByTestId('error-ports')).toContainText('must look like HOST:CONTAINER');
  await page.getByTestId('field-ports').fill('');
  await page.getByTestId('field-mounts').fill('relative:/x\ndata:y');
  await expect(page.getByTestId('error-mounts')).toContainText('line 2 (target): must be an absolute path');
  await page.getByTestId('field-mounts').fill(`${P}-vol:/data`);
  await expect(page.getByTestId('error-mounts')).toHaveCount(0);
  await page.getByTestId('field-memoryMB').fill('2');
  await expect(page.getByTestId('error-memoryMB')).toContainText('at least');
  await page.getByTestId('field-memoryMB').fill('32');

  const name = `${P}-${app.mode}`;
  await page.getByTestId('field-name').fill(name);
  await page.getByTestId('field-image').selectOption(IMG);
  await page.getByTestId('field-cmd').fill('sleep');
  await page.getByTestId('field-args').fill('300');
  await page.getByTestId('field-env').fill('FROM=form');
  await page.getByTestId('create-submit').click();

  const state = page.locator('[data-testid^="detail-state-container:"]');
  await expect(state).toHaveText('running');
  const c = await d.getContainer(name).inspect();
  expect(c.Config.Env).toContain('FROM=form');
  expect(c.HostConfig.Memory).toBe(32 * 1024 * 1024);
  expect(c.Mounts.map((m) => m.Name)).toEqual([`${P}-vol`]);
  const id = (await state.getAttribute('data-testid'))!.replace('detail-state-', '');
  await page.getByTestId(`action-delete-${id}`).click();
  await page.getByTestId('confirm-ok').click();
  await expect(page.getByTestId('workload-list')).toBeVisible();
  await expect(page.getByTestId(`workload-row-${id}`)).toHaveCount(0);
  await expect.poll(() => d.getContainer(name).inspect().then(() => 'there', (e: { statusCode?: number }) => e.statusCode)).toBe(404);
});
