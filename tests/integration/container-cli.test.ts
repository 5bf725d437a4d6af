import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { busyboxTarball } from '../helpers/busybox.js';
import { BIN, cli } from '../helpers/cli.js';
import { cleanupPrefix, docker, dockerWhy, shIn, tinyRegistry, uniquePrefix } from '../helpers/docker.js';
import { describeWith } from '../helpers/engines.js';
import { tempHome } from '../helpers/home.js';

/** The CLI with text on its standard input, as `printf … | novacron terminal ID` would. */
function cliWithInput(args: string[], env: NodeJS.ProcessEnv, input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

describeWith('dockerd', dockerWhy(), 'container driver through the CLI', () => {
  const P = uniquePrefix('cli');
  const IMG = `${P}-img:1`;
  const NAME = `${P}-web`;
  const d = docker();
  const t = tempHome('nc-ct-');
  const run = async (...args: string[]) => {
    const r = await cli(args, t.env);
    if (r.code !== 0) throw new Error(`novacron ${args.join(' ')} → ${r.code}: ${r.stderr}`);
    return r.stdout.trim();
  };
  beforeAll(() => undefined);
  afterAll(async () => {
    await cleanupPrefix(d, P);
    t.cleanup();
  });

  it('imports an image, creates with flags, and drives the whole lifecycle', async () => {
    expect(await run('images', 'import', '--driver', 'container', busyboxTarball(), '--name', IMG)).toMatch(new RegExp(`^${IMG} sha256:`));
    expect(await run('images', 'ls', '--driver', 'container')).toContain(IMG);

    const id = await run(
      'create', '--driver', 'container', '--name', NAME, '--image', IMG,
      '--cmd', 'sh', '--arg=-c', '--arg', 'trap "exit 0" TERM; echo started; while :; do sleep 0.1; done',
      '--env', 'K=V', '--mount', `${P}-data:/data`, '--mount', '/tmp:/host:ro', '--port', '127.0.0.1::80',
      '--memory', '48', '--cpu-shares', '256', '--cpus', '0.5', '--restart', 'on-failure:2', '--label', 'tier=web',
    );
    expect(id).toMatch(/^container:[0-9a-f]{12}$/);
    const c = await d.getContainer(NAME).inspect();
    expect(c.Config.Env).toContain('K=V');
    expect(c.HostConfig).toMatchObject({ Memory: 48 * 1024 * 1024, CpuShares: 256, NanoCpus: 5e8, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } });
    expect(c.HostConfig.Mounts).toEqual([expect.objectContaining({ Type: 'volume', Source: `${P}-data` }), expect.objectContaining({ Type: 'bind', Source: '/tmp', ReadOnly: true })]);
    expect(c.HostConfig.PortBindings).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });

    expect(await run('start', NAME)).toBe(`${id} running`);
    expect(await run('ls', '--driver', 'container')).toMatch(new RegExp(`${id}\\s+${NAME}\\s+container\\s+running`));
    expect(await run('inspect', NAME)).toContain('memoryMB: 48');
    expect(await run('stats', NAME)).toMatch(/cgroup v[12]/);
    expect(await run('logs', NAME)).toBe('started');
    expect(await run('pause', NAME)).toBe(`${id} paused`);
    expect(await run('resume', NAME)).toBe(`${id} running`);
    expect(await run('scale', NAME, '--memory', '96', '--cpus', '1')).toContain('96 MiB · 1 CPU');

    const term = await cliWithInput(['terminal', NAME], t.env, 'echo hi\nexit\n');
    expect(term.code).toBe(0);
    expect(term.stdout).toMatch(/\r?\nhi\r?\n/);

    await shIn(d, NAME, 'echo one > /root/file');
    expect(await run('snapshot', NAME, '--name', 'first')).toBe('snapshot first taken');
    expect(await run('snapshots', NAME)).toMatch(/first\s+filesystem image/);
    await shIn(d, NAME, 'echo two > /root/file');
    expect(await run('revert', NAME, 'first')).toBe(`${id} reverted to first (running)`);
    expect(await shIn(d, NAME, 'cat /root/file')).toBe('one\n');
    expect(await run('snapshot-rm', NAME, 'first')).toBe('snapshot first deleted');

    const rm = await cli(['rm', NAME], t.env);
    expect(rm).toMatchObject({ code: 6, stderr: expect.stringContaining('force') });
    expect(await run('stop', NAME, '--timeout', '5')).toBe(`${id} exited`);
    expect(await run('start', NAME)).toBe(`${id} running`);
    expect(await run('stop', NAME, '--force')).toBe(`${id} stopped`);
    expect(await run('rm', NAME)).toBe(`${id} deleted`);
    expect(await run('images', 'rm', '--driver', 'container', IMG)).toBe(`${IMG} deleted`);
    // Some thirty CLI processes, each starting a core: slow on a loaded machine.
  }, 150_000);

  it('pulls an image from a registry', async () => {
    const reg = await tinyRegistry(`${P}/app`, '1');
    try {
      const ref = `${reg.host}/${P}/app:1`;
      expect(await run('images', 'pull', '--driver', 'container', ref)).toMatch(new RegExp(`^${ref} sha256:`));
      expect(await run('images', 'rm', '--driver', 'container', ref)).toBe(`${ref} deleted`);
    } finally {
      await reg.close();
    }
  });

  it('refuses bad flags before the engine sees them, with exit code 2', async () => {
    const base = ['create', '--driver', 'container', '--name', `${P}-bad`, '--image', IMG];
    for (const [flags, text] of [
      [['--port', 'eighty'], '--port:'],
      [['--mount', 'nocolon'], '--mount:'],
      [['--mount', 'rel/path:/x'], 'mounts.0.source'],
      [['--memory', 'lots'], '--memory:'],
      [['--restart', 'sometimes'], 'restart.policy'],
      [['--env', 'NOEQUALS'], '--env:'],
    ] as const) {
      const r = await cli([...base, ...flags], t.env);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr).toContain(text);
    }
    const r = await cli(['create', '--driver', 'container', '--name', `${P}-bad`, '--image', 'UPPER/case'], t.env);
    expect(r).toMatchObject({ code: 2, stderr: expect.stringContaining('image: must be lowercase') });
    const missing = await cli(['start', 'container:nothinghere'], t.env);
    expect(missing).toMatchObject({ code: 3, stderr: expect.stringContaining('No such container') });
  });
});
