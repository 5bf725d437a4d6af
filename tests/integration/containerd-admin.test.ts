import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NovaClient } from '../../shared/contract/client.js';
import { busyboxWhy } from '../helpers/busybox.js';
import { cli } from '../helpers/cli.js';
import { containerdWhy, ctr, removeNamespace, testNamespace } from '../helpers/containerd.js';
import { BUSYBOX, openContainerdCore } from '../helpers/containerd-core.js';
import { describeWith } from '../helpers/engines.js';
import { busyboxArchive } from '../helpers/oci-archive.js';

describeWith('containerd', containerdWhy() ?? busyboxWhy(), 'containerd and Kata: the matrix, bad input, other namespaces, the CLI', () => {
  let client: NovaClient;
  let ns: string;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let close: () => void;
  beforeAll(async () => {
    ({ client, namespace: ns, home, env, close } = await openContainerdCore('adm'));
  });
  afterAll(() => close());

  it('shows both drivers in the matrix, Kata unavailable with its reason', async () => {
    const drivers = await client.call('drivers.list', {});
    const cd = drivers.find((d) => d.id === 'containerd')!;
    expect(cd).toMatchObject({ available: true, version: expect.stringMatching(/^1\./) });
    expect(cd.details).toMatchObject({ namespace: ns, snapshotter: 'overlayfs', runtimes: expect.stringContaining('runsc') });
    expect(cd.details!.kata).toMatch(/unavailable: .*containerd-shim-kata-v2/);
    for (const cap of ['create', 'start', 'stop', 'restart', 'pause', 'delete', 'metrics', 'logs', 'terminal', 'snapshot', 'images', 'limits', 'scale'] as const) {
      expect(cd.capabilities[cap], cap).toEqual({ available: true });
    }
    expect(cd.capabilities.console).toMatchObject({ available: false, reason: expect.stringMatching(/no display/) });
    expect(cd.capabilities.migrate).toMatchObject({ available: false, reason: expect.stringMatching(/CRIU/) });

    const kata = drivers.find((d) => d.id === 'kata-containers')!;
    expect(kata.available).toBe(false);
    expect(kata.reason).toMatch(/containerd-shim-kata-v2/);
    expect(kata.capabilities.create).toMatchObject({ available: false, reason: kata.reason });
    await expect(client.call('workloads.create', { driver: 'kata-containers', name: 'vm', image: BUSYBOX })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // Not installed is the matrix's business: listing every workload does not report it as an error.
    const { errors } = await client.call('workloads.list', {});
    expect(errors.filter((e) => e.driver.startsWith('kata') || e.driver === 'containerd')).toEqual([]);
  });

  it('refuses bad input with the field and the reason', async () => {
    const create = (over: Record<string, unknown>) => client.call('workloads.create', { driver: 'containerd', name: 'bad', image: BUSYBOX, ...over } as never);
    await expect(create({ name: 'a/b' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    await expect(create({ image: 'Not A Ref' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'image' });
    await expect(create({ image: 'nowhere/none:1' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'image', message: expect.stringMatching(/import it first/) });
    await expect(create({ runtime: 'kata' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'runtime', message: expect.stringMatching(/kata is not available here/) });
    await expect(create({ runtime: 'crun' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'runtime' });
    await expect(create({ mounts: [{ source: 'relative', target: '/x' }] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'mounts.0.source' });
    await expect(create({ mounts: [{ source: '/no/such/dir', target: '/x' }] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'mounts.0.source' });
    await expect(create({ labels: { 'novacron.io/driver': 'x' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(create({ memoryMB: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'memoryMB' });

    await client.call('workloads.create', { driver: 'containerd', name: 'twice', image: BUSYBOX, cmd: 'true' });
    await expect(client.call('workloads.create', { driver: 'containerd', name: 'twice', image: BUSYBOX })).rejects.toMatchObject({ code: 'CONFLICT' });
    await client.call('workloads.delete', { id: 'containerd:twice' });

    const notTar = join(home, 'not-an-archive.tar');
    writeFileSync(notTar, 'hello');
    await expect(client.call('images.import', { driver: 'containerd', file: notTar, name: 'x/y:1' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'file' });
    await expect(client.call('images.import', { driver: 'containerd', file: '/no/such.tar', name: 'x/y:1' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'file' });
    await expect(client.call('images.import', { driver: 'containerd', file: notTar, name: 'UPPER/case' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    await expect(client.call('images.delete', { driver: 'containerd', ref: 'nowhere/none:1' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('imports an OCI layout archive with a gzipped layer, and deletes images not in use', async () => {
    const img = await client.call('images.import', { driver: 'containerd', file: busyboxArchive('oci'), name: 'novacron-test/busybox-oci:1' });
    expect(img).toMatchObject({ driver: 'containerd', refs: ['novacron-test/busybox-oci:1'] });
    // A name that exists is moved to the archive imported last (the engine's ALREADY_EXISTS says so), and back.
    const again = await client.call('images.import', { driver: 'containerd', file: busyboxArchive('docker'), name: 'novacron-test/busybox-oci:1' });
    expect(again.id).not.toBe(img.id);
    expect(ctr(ns, ['images', 'ls']).split('\n').filter((l) => l.startsWith('novacron-test/busybox-oci:1 '))).toEqual([expect.stringContaining(again.id)]);
    expect((await client.call('images.import', { driver: 'containerd', file: busyboxArchive('oci'), name: 'novacron-test/busybox-oci:1' })).id).toBe(img.id);
    const w = await client.call('workloads.create', { driver: 'containerd', name: 'oci', image: 'novacron-test/busybox-oci:1', cmd: 'true' });
    await expect(client.call('images.delete', { driver: 'containerd', ref: 'novacron-test/busybox-oci:1' })).rejects.toMatchObject({ code: 'CONFLICT' });
    await client.call('workloads.delete', { id: w.id });
    await client.call('images.delete', { driver: 'containerd', ref: 'novacron-test/busybox-oci:1' });
    expect(ctr(ns, ['images', 'ls', '-q'])).not.toContain('busybox-oci');
  });

  it('lists containers of other namespaces read-only', async () => {
    const other = testNamespace('other');
    try {
      ctr(other, ['images', 'import', busyboxArchive('docker')]);
      ctr(other, ['containers', 'create', `docker.io/${BUSYBOX}`, 'stranger']);
      const { workloads } = await client.call('workloads.list', { driver: 'containerd' });
      const w = workloads.find((x) => x.id === `containerd:${other}/stranger`);
      expect(w).toMatchObject({ name: `${other}/stranger`, managed: false, state: 'stopped', runtime: 'runc' });
      await expect(client.call('workloads.start', { id: w!.id })).rejects.toMatchObject({ code: 'NOT_SUPPORTED', message: expect.stringMatching(/read-only/) });
      await expect(client.call('workloads.delete', { id: w!.id })).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
      expect((await client.call('workloads.inspect', { id: w!.id })).runtime).toMatchObject({ namespace: other, container_id: 'stranger' });
    } finally {
      removeNamespace(other);
    }
  });

  it('runs containerd workloads from the CLI, sandboxed when asked', async () => {
    const imp = await cli(['images', 'import', '--driver', 'containerd', busyboxArchive('docker'), '--name', 'novacron-test/cli:1'], env);
    expect(imp.stderr).toBe('');
    expect(imp.code).toBe(0);
    const ls = await cli(['images', 'ls', '--driver', 'containerd'], env);
    expect(ls.stdout).toContain('novacron-test/cli:1');

    const made = await cli(
      ['create', '--driver', 'containerd', '--name', 'clibox', '--image', 'novacron-test/cli:1', '--cmd', 'sh', '--arg=-c', '--arg', 'echo $WHO; sleep 60', '--env', 'WHO=cli', '--memory', '32', '--cpus', '0.5', '--runtime', 'runsc', '--label', 'team=ops'],
      env,
    );
    expect(made.stderr).toBe('');
    expect(made.stdout.trim()).toBe('containerd:clibox');
    expect((await cli(['start', 'clibox'], env)).code).toBe(0);
    const listed = await cli(['ls', '--driver', 'containerd', '--json'], env);
    expect(JSON.parse(listed.stdout).workloads).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'containerd:clibox', state: 'running', runtime: 'runsc' })]));
    const bad = await cli(['create', '--driver', 'containerd', '--name', 'x', '--image', BUSYBOX, '--mount', 'nocolon'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--mount/);
    expect((await cli(['rm', '--force', 'clibox'], env)).code).toBe(0);
    expect(ctr(ns, ['containers', 'ls', '-q'])).not.toContain('clibox');
  });
});
