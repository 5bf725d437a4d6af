import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { Config } from '../../shared/config.js';
import { resolvePaths } from '../../electron/core/base/paths.js';
import { Lv } from '../../electron/core/drivers/libvirt/context.js';
import { probe } from '../../electron/core/drivers/libvirt/detect.js';
import { Virsh } from '../../electron/core/drivers/libvirt/virsh.js';
import { describeWith } from '../helpers/engines.js';
import { libvirtWhy, SYSTEM } from '../helpers/libvirt.js';

// Detecting libvirt asks virsh three questions (version, capabilities, nodeinfo). Asked
// together they cost one round trip, which was the last step of `novacron ls`; a daemon
// that is down must still cost one virsh per recheck, not three.

describeWith('libvirt', libvirtWhy(), 'libvirt detection, against the real libvirtd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nc-lv-probe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const DOWN = `${SYSTEM}?socket=${join(dir, 'no-libvirtd.sock')}`;

  /** virsh itself, behind a script that notes when each subcommand starts and ends. */
  function timedVirsh(uri: string, name: string): { virsh: Virsh; log: () => { cmd: string; at: string; ns: bigint }[] } {
    const log = join(dir, `${name}.log`);
    const bin = join(dir, `${name}.sh`);
    writeFileSync(bin, `#!/bin/sh\necho "$4 start $(date +%s%N)" >> '${log}'\nvirsh "$@"\nrc=$?\necho "$4 end $(date +%s%N)" >> '${log}'\nexit $rc\n`);
    chmodSync(bin, 0o755);
    const lines = () =>
      readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' '))
        .map(([cmd, at, ns]) => ({ cmd: cmd!, at: at!, ns: BigInt(ns!) }));
    return { virsh: new Virsh(uri, bin), log: lines };
  }

  it('asks capabilities and nodeinfo while version is still out, and reads the host from all three', async () => {
    const { virsh, log } = timedVirsh(SYSTEM, 'together');
    const r = await probe(virsh, new AbortController().signal);
    expect(r.ok ? { daemon: !!r.host.daemon, machines: r.host.machines.size > 0, cpus: r.host.cpus! > 0 } : r).toEqual({ daemon: true, machines: true, cpus: true });
    const at = (cmd: string, what: string) => log().find((e) => e.cmd === cmd && e.at === what)!.ns;
    expect(at('capabilities', 'start')).toBeLessThan(at('version', 'end'));
    expect(at('nodeinfo', 'start')).toBeLessThan(at('version', 'end'));
  });

  it("explains version's failure when the daemon is down, and asks only version again while it stays down", async () => {
    const lv = new Lv({ config: { 'libvirt.uri': DOWN } as Config, paths: resolvePaths({ NOVACRON_HOME: dir }) });
    const first = await lv.probe(new AbortController().signal, true);
    expect(first).toMatchObject({ ok: false, reason: expect.stringMatching(/libvirtd is not running \(nothing listens at .*no-libvirtd\.sock\)/) });
    const asked = () => Object.fromEntries(lv.virsh.calls);
    expect(asked()).toEqual({ version: 1, capabilities: 1, nodeinfo: 1 });
    for (let i = 0; i < 3; i++) expect((await lv.probe(new AbortController().signal, true)).ok).toBe(false);
    expect(asked()).toEqual({ version: 4, capabilities: 1, nodeinfo: 1 });
  });

  it('asks one question at a time when told to, and answers the same', async () => {
    const { virsh, log } = timedVirsh(SYSTEM, 'sequential');
    const r = await probe(virsh, new AbortController().signal, false);
    expect(r.ok).toBe(true);
    const at = (cmd: string, what: string) => log().find((e) => e.cmd === cmd && e.at === what)!.ns;
    expect(at('capabilities', 'start')).toBeGreaterThan(at('version', 'end'));
  });
});
