import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withQmp } from '../../electron/core/drivers/kvm/qmp.js';
import { bootSectorImage } from './guests.js';

/**
 * A VNC server NovaCron does not manage, for the saved-connection tests: a bare QEMU
 * booting the boot-sector guest, with VNC on 127.0.0.1 at the first free display (and a
 * VNC password when asked). QMP tells which port it took.
 */
export async function plainVncServer(password?: string): Promise<{ port: number; qmp: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'nc-vnc-'));
  const qmp = join(dir, 'qmp.sock');
  const vnc = `127.0.0.1:0,to=200${password ? ',password-secret=vncpw' : ''}`;
  const child: ChildProcess = spawn(
    'qemu-system-x86_64',
    [
      '-name', 'nc-test-vnc', '-accel', 'tcg', '-m', '16', '-nodefaults', '-vga', 'std', '-display', 'none',
      '-drive', `file=${bootSectorImage()},format=raw,if=ide,snapshot=on`,
      ...(password ? ['-object', `secret,id=vncpw,data=${password}`] : []),
      '-vnc', vnc,
      '-qmp', `unix:${qmp},server=on,wait=off`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const info = await withQmp(qmp, (q) => q.execute<{ service?: string; enabled: boolean }>('query-vnc'));
      if (info.service) return { port: Number(info.service), qmp, stop };
    } catch {
      // not up yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`QEMU with VNC did not start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
