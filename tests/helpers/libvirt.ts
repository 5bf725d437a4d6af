import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Fixtures for the libvirt driver's tests: the shared system daemon (never restarted;
 * every domain a test makes carries a unique nc-lv- prefix and is removed by it), plus,
 * for what needs a second host, a private libvirtd in its own mount namespace and a
 * private sshd on a loopback port.
 */
export const SYSTEM = 'qemu:///system';

export const uniqueDomain = (what: string) => `nc-lv-${what}-${randomBytes(3).toString('hex')}`;

/** Run virsh for a test's own setup and checks (not the code under test). */
export function virsh(args: string[], uri = SYSTEM): string {
  return execFileSync('virsh', ['-q', '-c', uri, ...args], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why the libvirt tests cannot run here, or undefined. */
export function libvirtWhy(): string | undefined {
  try {
    execFileSync('virsh', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'virsh is not installed (Debian: libvirt-clients, libvirt-daemon-system)';
  }
  try {
    virsh(['version']);
  } catch (e) {
    return `libvirtd does not answer at ${SYSTEM} (bash scripts/engines.sh): ${String((e as { stderr?: string }).stderr ?? e).trim()}`;
  }
  return undefined;
}

/** Destroy and undefine every domain whose name starts with the prefix; other domains are never touched. */
export function removeDomains(prefix: string, uri = SYSTEM): void {
  let names: string[];
  try {
    names = virsh(['list', '--all', '--name'], uri).split('\n').map((s) => s.trim()).filter(Boolean);
  } catch {
    return;
  }
  for (const n of names.filter((x) => x.startsWith(prefix))) {
    try {
      virsh(['destroy', n], uri);
    } catch {
      // not running
    }
    try {
      virsh(['undefine', n, '--snapshots-metadata', '--managed-save'], uri);
    } catch {
      // transient, or gone
    }
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(what: string, ok: () => boolean, log: () => string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up: ${log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function unshareWhy(): string | undefined {
  if (!existsSync('/usr/bin/unshare')) return 'unshare is not installed (util-linux)';
  if (process.getuid?.() !== 0) return 'a second libvirtd needs root (a private mount namespace)';
  return undefined;
}

/**
 * A second libvirtd, a "peer host" for live migration: its own config, state, runtime and
 * log folders bind-mounted over libvirt's in a private mount namespace, its own host UUID
 * (libvirt refuses to migrate a domain to the host it is on), listening on a loopback TCP
 * port without auth. No cgroups (the shared daemon's are left alone), and QEMU logs
 * written by QEMU itself (no virtlogd of its own). The same filesystem otherwise: the
 * domain's disks are "shared storage" for real.
 */
export async function startPeerDaemon(): Promise<{ uri: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'nc-lvpeer-'));
  for (const d of ['etc/qemu', 'lib', 'log', 'cache']) mkdirSync(join(dir, d), { recursive: true });
  const port = await freePort();
  const migBase = 49_300 + Math.floor(Math.random() * 60) * 10;
  const uuid = `0e6b2e1c-9d59-4c5e-8a3a-${randomBytes(6).toString('hex')}`;
  writeFileSync(join(dir, 'etc', 'libvirtd.conf'), `listen_tls = 0\nlisten_tcp = 1\ntcp_port = "${port}"\nlisten_addr = "127.0.0.1"\nauth_tcp = "none"\nhost_uuid = "${uuid}"\n`);
  writeFileSync(join(dir, 'etc', 'qemu.conf'), `cgroup_controllers = [ ]\nstdio_handler = "file"\nmigration_port_min = ${migBase}\nmigration_port_max = ${migBase + 9}\n`);
  const script =
    'mount --bind "$1/etc" /etc/libvirt && mount -t tmpfs tmpfs /run/libvirt && mount --bind "$1/lib" /var/lib/libvirt && ' +
    'mount --bind "$1/log" /var/log/libvirt && mount --bind "$1/cache" /var/cache/libvirt && exec /usr/sbin/libvirtd --listen --pid-file "$1/libvirtd.pid"';
  const child: ChildProcess = spawn('unshare', ['-m', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'sh', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const uri = `qemu+tcp://127.0.0.1:${port}/system`;
  const answers = () => {
    if (child.exitCode !== null) throw new Error(`the peer libvirtd exited: ${log}`);
    try {
      virsh(['version'], uri);
      return true;
    } catch {
      return false;
    }
  };
  await waitFor('the peer libvirtd', answers, () => log);
  return {
    uri,
    async stop() {
      removeDomains('', uri);
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function sshdWhy(): string | undefined {
  for (const bin of ['/usr/sbin/sshd', '/usr/bin/ssh', '/usr/bin/ssh-keygen']) if (!existsSync(bin)) return `${bin} is missing (Debian: openssh-server, openssh-client)`;
  if (process.getuid?.() !== 0) return 'a private sshd that logs in as root needs root';
  return undefined;
}

/**
 * A private sshd on a loopback port that lets in one fresh key, as root: what a
 * qemu+ssh://root@HOST/system connection needs. The URI carries the key and an ssh wrapper
 * that keeps the throwaway host key out of ~/.ssh/known_hosts.
 */
export async function startSshd(): Promise<{ uri: (path?: string) => string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'nc-lvssh-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
  copyFileSync(join(dir, 'client_key.pub'), join(dir, 'authorized_keys'));
  // One ssh connection carries every virsh call (ControlMaster), as an admin's ~/.ssh/config would: a login per call costs half a second.
  writeFileSync(
    join(dir, 'ssh'),
    `#!/bin/sh\nexec /usr/bin/ssh -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ControlMaster=auto -o ControlPath=${join(dir, 'cm-%C')} -o ControlPersist=60 "$@"\n`,
  );
  chmodSync(join(dir, 'ssh'), 0o755);
  // sshd insists on its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const child = spawn(
    '/usr/sbin/sshd',
    ['-D', '-e', '-p', String(port), '-h', join(dir, 'host_key'), '-o', 'ListenAddress=127.0.0.1', '-o', `AuthorizedKeysFile=${join(dir, 'authorized_keys')}`, '-o', 'PermitRootLogin=prohibit-password', '-o', `PidFile=${join(dir, 'sshd.pid')}`, '-o', 'UsePAM=no', '-o', 'StrictModes=no'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (b: Buffer) => (log += b.toString()));
  const uri = (path = '/system') => `qemu+ssh://root@127.0.0.1:${port}${path}?keyfile=${join(dir, 'client_key')}&no_verify=1&no_tty=1&command=${join(dir, 'ssh')}`;
  await waitFor('the private sshd', () => existsSync(join(dir, 'sshd.pid')) && readFileSync(join(dir, 'sshd.pid'), 'utf8').trim() !== '', () => log);
  return {
    uri,
    async stop() {
      try {
        execFileSync('/usr/bin/ssh', ['-o', `ControlPath=${join(dir, 'cm-%C')}`, '-p', String(port), '-O', 'exit', 'root@127.0.0.1'], { stdio: 'ignore' });
      } catch {
        // no master running
      }
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5_000))]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
