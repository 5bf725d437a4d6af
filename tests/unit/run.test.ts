import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../electron/core/base/run.js';
import { Virsh } from '../../electron/core/drivers/libvirt/virsh.js';

// base/run.ts runs the short tools operations wait on (qemu-img, virsh) with node's spawn.
// virsh moved to it from execa: what execa did for it (environment, input, timeout with a
// SIGKILL after SIGTERM, cancel) is checked here against real programs.

describe('run(): a program to its end', () => {
  it('passes the environment it is given and the input, and reads both outputs', async () => {
    const r = await run('sh', ['-c', 'printf "%s:" "$NC_RUN_TEST"; cat; echo oops >&2'], { env: { ...process.env, NC_RUN_TEST: 'yes' }, input: 'in' });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'yes:in', stderr: 'oops\n', cancelled: false, timedOut: false });
  });

  it('stops a program that runs past its timeout', async () => {
    const t0 = Date.now();
    const r = await run('sleep', ['30'], { timeoutMs: 200 });
    expect(r).toMatchObject({ signal: 'SIGTERM', timedOut: true, cancelled: false });
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('kills one that ignores SIGTERM 5 s later', async () => {
    const r = await run(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setTimeout(() => {}, 30_000); console.log('up')"], { timeoutMs: 500 });
    expect(r).toMatchObject({ signal: 'SIGKILL', timedOut: true, stdout: 'up\n' });
  }, 15_000);

  it('ends one whose operation is cancelled, and says so', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const r = await run('sleep', ['30'], { signal: ac.signal });
    expect(r).toMatchObject({ cancelled: true, timedOut: false, signal: 'SIGTERM' });
  });

  it('names a program that is not there', async () => {
    expect(await run('/nonexistent/nc-run-test', [])).toMatchObject({ failureCode: 'ENOENT', cancelled: false });
  });
});

describe('virsh through run()', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nc-run-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  /** A stand-in virsh: prints its arguments, or fails like virsh does. */
  const fake = (script: string) => {
    const bin = join(dir, `virsh-${n++}`);
    writeFileSync(bin, `#!/bin/sh\n${script}\n`);
    chmodSync(bin, 0o755);
    return new Virsh('qemu:///system', bin);
  };

  it('reads the output without its final line break, as before', async () => {
    expect(await fake('echo "$@"').run(['list', '--all'])).toBe('--quiet --connect qemu:///system list --all');
  });

  it("keeps virsh's words as the error, mapped to our code", async () => {
    await expect(fake('echo "error: failed to get domain \'x\'" >&2; exit 1').run(['dominfo', 'x'])).rejects.toMatchObject({ code: 'NOT_FOUND', message: "libvirt: failed to get domain 'x'" });
  });

  it('times out, and cancels', async () => {
    await expect(fake('sleep 30').run(['list'], { timeoutMs: 200 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await expect(fake('sleep 30').run(['list'], { signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('says virsh is not installed when it is not', async () => {
    await expect(new Virsh('qemu:///system', '/nonexistent/virsh').run(['list'])).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'libvirt: /nonexistent/virsh is not installed (Debian: libvirt-clients)' });
  });
});
