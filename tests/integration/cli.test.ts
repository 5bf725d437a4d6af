import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cli, serve } from '../helpers/cli.js';
import { describeWith } from '../helpers/engines.js';
import { tempHome } from '../helpers/home.js';
import { libvirtWhy } from '../helpers/libvirt.js';

describe('the novacron CLI, as a separate process', () => {
  const t = tempHome('nc-cli-');
  afterAll(() => t.cleanup());

  it('lists the drivers as JSON with availability, reasons and capabilities', async () => {
    const r = await cli(['drivers', '--json'], t.env);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as { id: string; available: boolean; reason?: string; capabilities: Record<string, { available: boolean; reason?: string }> }[];
    expect(list.map((d) => d.id)).toEqual(['kvm', 'container', 'containerd', 'kata-containers', 'process', 'libvirt']);
    for (const d of list) {
      expect(typeof d.available).toBe('boolean');
      expect(Object.keys(d.capabilities)).toContain('pause');
      if (!d.available) expect(d.reason).toBeTruthy();
      for (const c of Object.values(d.capabilities)) if (!c.available) expect(c.reason).toBeTruthy();
    }
  });

  it('drives the process lifecycle by name and by id', async () => {
    const created = await cli(['create', '--driver', 'process', '--name', 'cli-sleep', '--cmd', '/bin/sleep', '--arg', '300', '--env', 'A=1'], t.env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    expect(id).toMatch(/^process:[0-9a-f]{12}$/);
    expect((await cli(['start', 'cli-sleep'], t.env)).stdout).toContain('running');
    const inspect = JSON.parse((await cli(['inspect', id, '--json'], t.env)).stdout) as { runtime: { pid: number; stdout_log: string } };
    expect(inspect.runtime.pid).toBeGreaterThan(1);
    expect(inspect.runtime.stdout_log).toContain(t.home);
    // The process outlives the CLI that started it.
    expect(() => process.kill(inspect.runtime.pid, 0)).not.toThrow();
    expect((await cli(['pause', id], t.env)).stdout).toContain('paused');
    expect((await cli(['resume', id], t.env)).stdout).toContain('running');
    const stats = JSON.parse((await cli(['stats', id, '--json'], t.env)).stdout) as { memoryBytes: number };
    expect(stats.memoryBytes).toBeGreaterThan(0);
    expect((await cli(['stop', id, '--timeout', '3'], t.env)).stdout).toContain('stopped');
    expect((await cli(['rm', id], t.env)).code).toBe(0);
    // The process driver's list only: the engines are shared with the other suites running now.
    expect(JSON.parse((await cli(['ls', '--driver', 'process', '--json'], t.env)).stdout)).toEqual({ workloads: [], errors: [] });
  });

  it('prints one error line with the code, and exits with its number', async () => {
    const cases: [string[], number, RegExp][] = [
      [['create', '--driver', 'process', '--name', '', '--cmd', 'sleep'], 2, /^novacron: INVALID_ARGUMENT: name: must not be empty\n$/],
      [['create', '--driver', 'process', '--name', 'a/b', '--cmd', 'sleep'], 2, /^novacron: INVALID_ARGUMENT: name: must not contain '\/'\n$/],
      [['create', '--driver', 'process', '--name', 'x'], 2, /^novacron: INVALID_ARGUMENT: cmd: is required\n$/],
      [['create', '--driver', 'process', '--name', 'x', '--cmd', 'sleep', '--bogus'], 2, /INVALID_ARGUMENT: --bogus: Unknown option/],
      [['stop', 'process:000000000000', '--timeout=-1'], 2, /^novacron: INVALID_ARGUMENT: timeoutSec: must not be negative\n$/],
      [['stop', 'process:000000000000', '--timeout', '-1'], 2, /^novacron: INVALID_ARGUMENT: --timeout: Option '--timeout' argument is ambiguous.\n$/],
      [['start', 'nothing-by-this-name'], 3, /^novacron: NOT_FOUND: no workload named 'nothing-by-this-name'/],
      [['start', 'process:000000000000'], 3, /^novacron: NOT_FOUND: process: no process workload '000000000000'/],
      [['snapshot', 'process:000000000000', '--name', 's1'], 4, /^novacron: NOT_SUPPORTED: process: snapshot: a process has no image/],
      [['frobnicate'], 2, /^novacron: INVALID_ARGUMENT: command: 'frobnicate' is not a novacron command/],
      // Streams the core refuses before subscribe returns: the refusal, not the CLI tripping over its own close.
      [['logs', 'libvirt:x\u0001y'], 2, /^novacron: INVALID_ARGUMENT: id: must not contain control characters\n$/],
      [['terminal', 'libvirt:x\u0001y'], 2, /^novacron: INVALID_ARGUMENT: id: must not contain control characters\n$/],
      [['events', '--follow', '--kind', 'bogus'], 2, /^novacron: INVALID_ARGUMENT: kinds\.0: must be one of operation, state, notice\n$/],
    ];
    for (const [args, code, err] of cases) {
      const r = await cli(args, t.env);
      expect({ args, code: r.code, stderr: r.stderr }).toMatchObject({ code, stderr: expect.stringMatching(err) });
    }
    // A driver that cannot reach its engine says why, with exit code 5 (here: a libvirtd socket that is not there).
    const down = await cli(['create', '--driver', 'libvirt', '--name', 'vm', '--memory', '512'], { ...t.env, LIBVIRT_DEFAULT_URI: 'qemu:///system?socket=/nonexistent/libvirt-sock' });
    expect(down).toMatchObject({ code: 5, stderr: expect.stringMatching(/^novacron: UNAVAILABLE: libvirt: (libvirtd is not running \(nothing listens at \/nonexistent\/libvirt-sock\)|virsh is not installed)/) });
    // None of that wrote a workload.
    expect(readdirSync(join(t.home, 'processes')).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('refuses a malformed config file naming the key', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(t.env.NOVACRON_CONFIG!, 'kvm:\n  enable_kvm: perhaps\n');
    const r = await cli(['ls'], t.env);
    writeFileSync(t.env.NOVACRON_CONFIG!, '');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^novacron: INVALID_ARGUMENT: config: kvm\.enable_kvm \(.*config\.yaml\): must be true or false/);
  });
});

describe('help', () => {
  const t = tempHome('nc-help-');
  afterAll(() => t.cleanup());
  it('answers --help on every command without touching anything', async () => {
    for (const c of ['stats', 'stop', 'snapshot-rm', 'events', 'serve', 'images', 'rm']) {
      const r = await cli([c, '--help'], t.env);
      expect({ c, code: r.code, err: r.stderr }).toEqual({ c, code: 0, err: '' });
      expect(r.stdout).toMatch(new RegExp(`novacron .*${c.split('-')[0]}`));
    }
  });
});

const BUNDLE = join(dirname(BIN), '..', 'dist', 'cli.cjs');

describe("the CLI's V8 code cache", () => {
  const t = tempHome('nc-cli-cache-');
  afterAll(() => t.cleanup());
  const cacheFiles = () => readdirSync(join(t.home, 'cache')).filter((f) => /^cli-[0-9a-f]{16}\.v8$/.test(f));

  it('lives in the data dir, 0600 in a 0700 folder, and one it must not trust, or cannot use, is made again', async () => {
    expect((await cli(['drivers', '--json'], t.env)).code).toBe(0);
    const [file, ...more] = cacheFiles();
    expect(more).toEqual([]);
    const path = join(t.home, 'cache', file!);
    expect(statSync(join(t.home, 'cache')).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const made = readFileSync(path);
    expect(made.length).toBeGreaterThan(1000);

    // Writable by others: compiled code is trusted as code, so it is not read, and a fresh one replaces it.
    writeFileSync(path, 'planted');
    chmodSync(path, 0o666);
    expect((await cli(['drivers', '--json'], t.env)).code).toBe(0);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).not.toBe('planted');

    // Garbage V8 rejects: the CLI still runs, and writes a cache it can use.
    writeFileSync(path, 'garbage');
    const r = await cli(['drivers', '--json'], t.env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveLength(6);
    expect(readFileSync(path).length).toBeGreaterThan(1000);
    expect(cacheFiles()).toEqual([file]);
  });
});

// libvirt's event watch is a subprocess serve (and events --follow) keeps running, through execa, whose signal-exit then
// listens for SIGTERM and SIGINT too.
describeWith('libvirt', libvirtWhy(), 'novacron serve and events --follow, stopped', () => {
  const t = tempHome('nc-cli-serve-stop-');
  afterAll(() => t.cleanup());

  const childrenOf = (child: ChildProcess) => {
    try {
      return execFileSync('ps', ['-o', 'args=', '--ppid', String(child.pid)], { encoding: 'utf8' });
    } catch {
      return ''; // none (ps exits 1)
    }
  };
  /** Once libvirt's event watch runs under it (so signal-exit listens), the signal; resolves with how it ended. */
  const signalWatching = async (child: ChildProcess, sig: NodeJS.Signals) => {
    for (let i = 0; i < 100 && !/ event --all --loop/.test(childrenOf(child)); i++) await new Promise((r) => setTimeout(r, 100));
    expect(childrenOf(child)).toMatch(/ event --all --loop/);
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    child.kill(sig);
    return exited;
  };

  it('by SIGTERM, shuts down and exits 0, leaving the code cache for its next start', async () => {
    const s = await serve(t.env);
    expect(await signalWatching(s.child, 'SIGTERM')).toEqual({ code: 0, signal: null });
    expect(readdirSync(join(t.home, 'cache')).filter((f) => f.endsWith('.v8'))).toHaveLength(1);
  });

  it('events --follow, by SIGTERM or Ctrl-C, stops following and exits 0', async () => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const child = spawn(process.execPath, [BIN, 'events', '--follow'], { env: t.env, stdio: 'ignore' });
      expect(await signalWatching(child, sig), sig).toEqual({ code: 0, signal: null });
    }
  });
});

describe('the CLI bundle', () => {
  it('is ASCII, so the loader takes its bytes as the string rather than decoding 3 MB (a character that is not says where)', () => {
    const bundle = readFileSync(BUNDLE);
    const at = bundle.findIndex((b) => b > 127);
    expect(at < 0 ? 'ASCII' : bundle.subarray(Math.max(0, at - 60), at + 20).toString()).toBe('ASCII');
    expect(bundle.toString('latin1')).toBe(bundle.toString('utf8'));
  });
});
