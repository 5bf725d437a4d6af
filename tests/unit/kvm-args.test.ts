import { describe, expect, it } from 'vitest';
import { kvmCreateSchema } from '../../shared/drivers/kvm.js';
import { fieldErrors } from '../../shared/validate.js';
import { qemuArgs } from '../../electron/core/drivers/kvm/args.js';
import type { VmDefinition } from '../../electron/core/drivers/kvm/store.js';
import { parsePortForward } from '../../electron/cli/create-flags/kvm.js';

const def: VmDefinition = {
  version: 1,
  id: '0123456789ab',
  name: 'web',
  createdAt: '2026-01-01T00:00:00Z',
  memoryMB: 512,
  cpus: 2,
  disks: [
    { node: 'd0', file: 'd0.qcow2', format: 'qcow2' },
    { node: 'd1', path: '/srv/a,b.img', format: 'raw' },
  ],
  network: 'user',
  portForwards: [{ hostPort: 8080, guestPort: 80, protocol: 'tcp', hostAddress: '127.0.0.1' }],
  machine: 'q35',
  accel: 'auto',
};

describe('the QEMU command line of a VM', () => {
  it('names the process, keeps sockets relative to its runtime dir, and passes devices as JSON', () => {
    const a = qemuArgs(def, { vmDir: '/data/vms/0123456789ab', accel: 'kvm' });
    const after = (flag: string) => a.filter((_, i) => a[i - 1] === flag);
    expect(after('-name')).toEqual(['guest=web,process=nc-0123456789ab']);
    expect(after('-machine')).toEqual(['q35,accel=kvm']);
    expect(after('-cpu')).toEqual([]);
    expect(after('-vnc')).toEqual(['unix:vnc.sock']);
    expect(a).toContain('-no-shutdown');
    // A comma in a path cannot inject an option: block devices are JSON.
    const blockdevs = after('-blockdev').map((j) => JSON.parse(j) as Record<string, unknown>);
    expect(blockdevs).toContainEqual({ driver: 'file', filename: '/srv/a,b.img', 'node-name': 'd1-file' });
    expect(blockdevs).toContainEqual({ driver: 'file', filename: '/data/vms/0123456789ab/d0.qcow2', 'node-name': 'd0-file' });
    expect(after('-device').map((j) => JSON.parse(j) as Record<string, unknown>)).toContainEqual({ driver: 'virtio-blk-pci', drive: 'd0', id: 'vd0', bootindex: 1 });
    expect(after('-netdev')).toEqual(['user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80']);
    expect(a).not.toContain('-incoming');
  });

  it('is the same for a migration destination, which waits for the stream and may leave the ports to the source', () => {
    const src = qemuArgs(def, { vmDir: '/d', accel: 'tcg' });
    const dst = qemuArgs(def, { vmDir: '/d', accel: 'tcg', incoming: 'unix:migrate.sock', skipForwards: true });
    expect(dst.slice(-2)).toEqual(['-incoming', 'unix:migrate.sock']);
    expect(dst.slice(0, -2).filter((x) => !x.startsWith('user,'))).toEqual(src.filter((x) => !x.startsWith('user,')));
    expect(dst).toContain('user,id=net0');
  });

  it('boots a kernel, or a CD first when there is an ISO', () => {
    const k = qemuArgs({ ...def, disks: [], kernel: '/boot/vmlinuz', initrd: '/boot/initrd', append: 'console=ttyS0 quiet' }, { vmDir: '/d', accel: 'tcg' });
    expect(k.join(' ')).toContain('-kernel /boot/vmlinuz -initrd /boot/initrd -append console=ttyS0 quiet');
    const cd = qemuArgs({ ...def, iso: '/iso/debian.iso' }, { vmDir: '/d', accel: 'tcg' });
    const devices = cd.filter((_, i) => cd[i - 1] === '-device').map((j) => JSON.parse(j) as Record<string, unknown>);
    expect(devices).toContainEqual({ driver: 'ide-cd', drive: 'cd0', id: 'cd0dev', bootindex: 0 });
    expect(devices.find((d) => d.id === 'vd0')?.bootindex).toBeUndefined();
  });
});

describe('the kvm create spec', () => {
  const base = { driver: 'kvm', name: 'vm', memoryMB: 256, disks: [{ sizeGB: 4 }] };
  it('fills defaults and names each bad field', () => {
    expect(kvmCreateSchema.parse(base)).toMatchObject({ cpus: 1, accel: 'auto', machine: 'pc', network: 'user', portForwards: [], start: false });
    expect(fieldErrors(kvmCreateSchema, { ...base, name: 'a/b', memoryMB: 8, accel: 'fast' })).toMatchObject({
      name: "must not contain '/'",
      memoryMB: 'must be at least 16 MiB',
      accel: 'must be auto, kvm or tcg',
    });
    expect(fieldErrors(kvmCreateSchema, { ...base, disks: [], append: 'x' })).toMatchObject({ append: 'needs a kernel', disks: 'give a disk, an ISO or a kernel to boot from' });
    expect(fieldErrors(kvmCreateSchema, { ...base, portForwards: [{ hostPort: 80, guestPort: 1 }, { hostPort: 80, guestPort: 2 }] })).toMatchObject({ 'portForwards.1': expect.stringContaining('forwarded twice') });
    expect(fieldErrors(kvmCreateSchema, { ...base, incoming: 'tcp:host:99999' })).toMatchObject({ incoming: 'port must be 1…65535' });
    expect(fieldErrors(kvmCreateSchema, { ...base, incoming: 'exec:rm -rf /' })).toMatchObject({ incoming: 'must look like tcp:HOST:PORT' });
    expect(fieldErrors(kvmCreateSchema, { ...base, start: 'yes' })).toMatchObject({ start: 'must be true or false' });
    expect(fieldErrors(kvmCreateSchema, { ...base, start: true, incoming: 'tcp:0.0.0.0:4444' })).toMatchObject({ start: expect.stringContaining('implied by incoming') });
  });

  it('reads --port-forward as an admin writes it', () => {
    expect(parsePortForward('8080:80')).toEqual({ hostPort: 8080, guestPort: 80 });
    expect(parsePortForward('0.0.0.0:5353:53/udp')).toEqual({ hostPort: 5353, guestPort: 53, protocol: 'udp', hostAddress: '0.0.0.0' });
    expect(() => parsePortForward('web')).toThrow(/HOSTPORT:GUESTPORT/);
  });
});
