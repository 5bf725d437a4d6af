import { execFile } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { DriverInfo } from '../../shared/capabilities.js';
import { BIN } from '../helpers/cli.js';
import { openTestCore } from '../helpers/core.js';
import { describeWith } from '../helpers/engines.js';
import { bootSectorImage, bootSectorWhy } from '../helpers/guests.js';
import { libvirtWhy, removeDomains, sshdWhy, startSshd, uniqueDomain, virsh } from '../helpers/libvirt.js';
import { openTerminal } from '../helpers/terminal.js';

const why = libvirtWhy() ?? bootSectorWhy() ?? sshdWhy();
vi.setConfig({ testTimeout: 60_000 });

/** `novacron drivers --json` as another user or with another PATH: the libvirt row. */
function libvirtRow(env: NodeJS.ProcessEnv, as?: { uid: number; gid: number }): Promise<DriverInfo> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, 'drivers', '--json'], { env, timeout: 30_000, ...(as ?? {}) }, (err, stdout, stderr) => {
      if (err && !stdout) return reject(new Error(`${err.message}: ${stderr}`));
      resolve((JSON.parse(stdout) as DriverInfo[]).find((d) => d.id === 'libvirt')!);
    });
  });
}

/**
 * A remote connection, for real: qemu+ssh://root@127.0.0.1:PORT/system through a private
 * sshd (the same daemon at the far end, reached the way a remote host is). And the ways a
 * connection fails: no virsh, a user libvirt does not let in, a key ssh refuses.
 */
describeWith('libvirt', why, 'libvirt driver over qemu+ssh://, and why it is unavailable when it is', () => {
  let local: Awaited<ReturnType<typeof openTestCore>>;
  let remote: Awaited<ReturnType<typeof openTestCore>>;
  let sshd: Awaited<ReturnType<typeof startSshd>>;
  const name = uniqueDomain('ssh');
  let id: string;

  beforeAll(async () => {
    sshd = await startSshd();
    local = await openTestCore('nc-lvh-');
    remote = await openTestCore('nc-lvs-');
    await remote.client.call('config.set', { values: { 'libvirt.uri': sshd.uri() } });
    const w = await local.client.call('workloads.create', { driver: 'libvirt', name, memoryMB: 32, disks: [{ base: bootSectorImage() }], accel: 'tcg' });
    id = w.id;
    await local.client.call('workloads.start', { id });
  });
  afterAll(async () => {
    removeDomains(name);
    await sshd?.stop();
    await local?.close();
    await remote?.close();
  });

  it('connects over ssh, and lists and drives the domains there', async () => {
    const info = (await remote.client.call('drivers.list', { refresh: true })).find((d) => d.id === 'libvirt')!;
    expect(info).toMatchObject({ available: true, version: expect.stringMatching(/^libvirt \d/), details: expect.objectContaining({ connection: 'remote' }) });
    expect(info.capabilities.create).toEqual({ available: false, reason: expect.stringContaining('local connection only') });
    await expect(remote.client.call('workloads.create', { driver: 'libvirt', name: `${name}-no`, memoryMB: 32, disks: [{ sizeGB: 1 }] })).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });

    const { workloads } = await remote.client.call('workloads.list', { driver: 'libvirt' });
    expect(workloads.find((w) => w.id === id)).toMatchObject({ name, state: 'running', managed: true, runtime: 'tcg' });

    // Its serial console comes through `virsh console` over the connection.
    const term = await openTerminal(remote.client, id);
    const at = await term.send('over-ssh');
    await term.expect(/over-ssh/, 15_000, at);
    term.close();

    expect((await remote.client.call('workloads.pause', { id })).state).toBe('paused');
    expect(virsh(['domstate', name]).trim()).toBe('paused');
    expect((await remote.client.call('workloads.resume', { id })).state).toBe('running');
    const s = await remote.client.call('workloads.stats', { id });
    expect(s.memoryLimitBytes).toBe(32 * 1024 * 1024);

    // What lives on the far host's filesystem or loopback is out of reach, and the errors say so.
    await expect(remote.client.call('console.open', { id })).rejects.toMatchObject({ code: 'NOT_SUPPORTED', message: expect.stringContaining('unix socket on 127.0.0.1') });
    // libvirt refuses a "migration" onto the host the domain already runs on; it runs on.
    await remote.client.call('config.set', { values: { 'libvirt.shared_storage': true } });
    await expect(remote.client.call('workloads.migrate', { id, to: sshd.uri() })).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('same host') });
    expect(virsh(['domstate', name]).trim()).toBe('running');

    expect((await remote.client.call('workloads.stop', { id, force: true })).state).toBe('stopped');
    await remote.client.call('workloads.delete', { id, force: true });
    expect(virsh(['list', '--all', '--name'])).not.toContain(name);
  });

  it('says why it cannot connect: no virsh, a user libvirt does not let in, a key ssh refuses', async () => {
    const noVirsh = await libvirtRow({ ...local.env, PATH: '/nonexistent' });
    expect(noVirsh).toMatchObject({ available: false, reason: 'virsh is not installed (Debian: libvirt-clients)' });

    // Another user, with a data dir of its own: qemu:///system is root's (or the libvirt group's).
    chmodSync(remote.home, 0o777);
    const denied = await libvirtRow({ ...remote.env, NOVACRON_CONFIG: '/nonexistent/config.yaml', HOME: '/nonexistent' }, { uid: 65534, gid: 65534 });
    expect(denied.available).toBe(false);
    expect(denied.reason).toMatch(/^permission denied: this user may not manage qemu:\/\/\/system/);

    await remote.client.call('config.set', { values: { 'libvirt.uri': sshd.uri().replace('root@', 'nobody@').replace(/keyfile=[^&]*/, 'keyfile=/nonexistent/key') } });
    const refused = (await remote.client.call('drivers.list', { refresh: true })).find((d) => d.id === 'libvirt')!;
    expect(refused.available).toBe(false);
    expect(refused.reason).toMatch(/^ssh to 127\.0\.0\.1 refused the login: .*Permission denied \(publickey/);
  });
});
