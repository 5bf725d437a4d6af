import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { OverlayTemplates } from '../../electron/core/drivers/kvm/overlays.js';
import { openTestCore, until } from '../helpers/core.js';
import { describeWith } from '../helpers/engines.js';
import { tempHome } from '../helpers/home.js';
import { qemuWhy } from '../helpers/qemu.js';

const MiB = 1024 * 1024;
const tag = (c: string, n: number) => c.repeat(n);
/** Named as a template's save names its temp file (key, random tag). */
const tmpName = (c: string) => `${tag(c, 32)}.qcow2.${tag(c, 12)}.tmp`;
const aged = (path: string, minutes: number) => {
  const t = new Date(Date.now() - minutes * 60_000);
  utimesSync(path, t, t);
};

/**
 * The linked-clone templates under kvm.vm_base_path/.overlays, against real qemu-img: the
 * sweep removes what no clone will use (a save a kill interrupted, a template whose base
 * or qemu-img changed) and keeps everything else in that folder.
 */
describeWith('QEMU', qemuWhy(), 'kvm linked-clone templates: the sweep', () => {
  const t = tempHome('nc-kvm-ovs-');
  afterAll(() => t.cleanup());

  it('removes stale temp files and templates whose base is gone or changed, or whose qemu-img changed; keeps the rest', async () => {
    const dir = join(t.home, 'overlays');
    const work = join(t.home, 'work');
    mkdirSync(work);
    const templates = new OverlayTemplates(dir);
    // qemu-img through a file of its own, to be "upgraded" below.
    const tool = join(t.home, 'qemu-img');
    writeFileSync(tool, '#!/bin/sh\nexec qemu-img "$@"\n', { mode: 0o755 });
    /** A linked clone of a new 1 MiB raw base; the name of the template it left. */
    const made: Record<string, string> = {};
    const clone = async (name: string) => {
      const base = join(work, `${name}.raw`);
      truncateSync((writeFileSync(base, ''), base), MiB);
      const before = new Set(existsSync(dir) ? readdirSync(dir) : []);
      await templates.clone(tool, base, 'raw', MiB, join(work, `${name}.qcow2`), name);
      made[name] = readdirSync(dir).find((n) => !before.has(n))!;
      expect(made[name]).toMatch(/^[0-9a-f]{32}\.qcow2$/);
      return base;
    };
    await clone('live');
    const touched = await clone('touched');
    const gone = await clone('gone');
    const grown = await clone('grown');
    const reformatted = await clone('reformatted');
    await new Promise((r) => setTimeout(r, 20));
    chmodSync(touched, 0o640); // changed (ctime) but of the same format and size: its template still serves
    rmSync(gone);
    truncateSync(grown, 2 * MiB);
    rmSync(reformatted);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', reformatted, String(MiB)]);

    const stale = tmpName('a');
    const fresh = tmpName('b');
    // Names NovaCron never makes, however old: left alone.
    const unrelated = ['notes.txt', `${tag('c', 32)}.qcow2.bak`, 'old.tmp', `${tag('D', 32)}.qcow2`, `${tmpName('e')}.keep`, `${tag('f', 31)}.qcow2`];
    for (const n of [stale, fresh, ...unrelated]) writeFileSync(join(dir, n), 'x');
    for (const n of [stale, ...unrelated]) aged(join(dir, n), 10);
    // Nor is a folder under a template's name.
    const folder = `${tag('9', 32)}.qcow2`;
    mkdirSync(join(dir, folder));

    await templates.sweep(tool);
    expect(readdirSync(dir).sort()).toEqual([made.live!, made.touched!, fresh, ...unrelated, folder].sort());
    // A clone of a live base still copies its template (no new one).
    await templates.clone(tool, join(work, 'live.raw'), 'raw', MiB, join(work, 'live2.qcow2'), 'live2');
    expect(readdirSync(dir)).toHaveLength(unrelated.length + 4);

    // qemu-img upgraded: what the old one made is not what a clone would copy now.
    writeFileSync(tool, '#!/bin/sh\n# a newer one\nexec qemu-img "$@"\n', { mode: 0o755 });
    await templates.sweep(tool);
    expect(readdirSync(dir).sort()).toEqual([fresh, ...unrelated, folder].sort());
  });

  it('runs at the first linked clone a process makes, without holding up that create', async () => {
    const c = await openTestCore('nc-kvm-ovs-core-');
    try {
      const dir = join(c.home, 'vms', '.overlays');
      mkdirSync(dir, { recursive: true });
      const stale = join(dir, tmpName('a'));
      const fresh = join(dir, tmpName('b'));
      writeFileSync(stale, 'x');
      writeFileSync(fresh, 'x');
      aged(stale, 10);
      const base = join(c.home, 'base.raw');
      truncateSync((writeFileSync(base, ''), base), MiB);
      await c.client.call('workloads.create', { driver: 'kvm', name: 'ov-sweep', memoryMB: 32, disks: [{ base }], accel: 'tcg' } as never);
      await until('the stale temp file swept', () => existsSync(stale), (e) => !e);
      expect(existsSync(fresh)).toBe(true);
      expect(readdirSync(dir).filter((n) => /^[0-9a-f]{32}\.qcow2$/.test(n))).toHaveLength(1);
    } finally {
      await c.close();
    }
  });
});
