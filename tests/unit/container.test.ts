import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containerCreateSchema, imageRefProblem, parseMountFlag, parsePortFlag } from '../../shared/drivers/container.js';
import { codeFor, engineError } from '../../electron/core/drivers/container/errors.js';
import { parseEngineAddress } from '../../electron/core/drivers/container/engine.js';
import { snapshotRepo } from '../../electron/core/drivers/container/labels.js';
import { splitStamp } from '../../electron/core/drivers/container/logs.js';
import { createOptions } from '../../electron/core/drivers/container/spec.js';
import { exitOf } from '../../electron/core/drivers/container/state.js';
import { cgroupFilesOf, dockerCpuPercent, dockerMemory, parseNetDev, statField } from '../../electron/core/drivers/container/stats.js';
import { tarKind } from '../../electron/core/drivers/container/tarkind.js';
import { splitRef } from '../../electron/core/drivers/container/images.js';
import { familiarRef, ImageDefaults } from '../../electron/core/drivers/container/image-defaults.js';

describe('container driver: pure parts', () => {
  it('reads image references as Docker does', () => {
    for (const ok of ['busybox', 'busybox:1.36', 'library/busybox:latest', 'registry.local:5000/team/app:1.0', 'localhost/x', 'a/b/c@sha256:' + 'a'.repeat(64), 'my_app-2.x:v1.2-rc']) {
      expect(imageRefProblem(ok), ok).toBeUndefined();
    }
    expect(imageRefProblem('Busybox')).toContain('lowercase');
    expect(imageRefProblem('UPPER/case')).toContain('lowercase');
    expect(imageRefProblem('bad image')).toContain('not an image reference');
    expect(imageRefProblem('x:')).toContain('not an image reference');
    expect(imageRefProblem('-x')).toContain('not an image reference');
    expect(imageRefProblem('')).toBe('must not be empty');
    expect(splitRef('registry.local:5000/team/app')).toEqual({ repo: 'registry.local:5000/team/app', tag: 'latest' });
    expect(splitRef('a/b:1')).toEqual({ repo: 'a/b', tag: '1' });
  });

  it("keeps an image's default command only while the engine's events could say it changed", () => {
    const d = new ImageDefaults();
    const cmd = { Entrypoint: null, Cmd: ['sleep', '1'] };
    const keep = (ref: string, id = `sha256:${ref}`) => d.set('e', ref, d.generation('e'), { Id: id, Config: cmd });
    keep('a');
    expect(d.get('e', 'a')).toBeUndefined(); // no event stream yet
    d.connected('e');
    keep('a');
    expect(d.get('e', 'a')).toEqual(cmd);
    expect(d.get('e', 'docker.io/library/a:latest')).toEqual(cmd); // the same reference, spelled out
    expect(d.get('other', 'a')).toBeUndefined();
    // A reading that began before an image event is not kept, whatever the event.
    const since = d.generation('e');
    d.changed('e', { action: 'tag', id: 'sha256:x', name: 'x:1' });
    d.set('e', 'b', since, { Id: 'sha256:b', Config: cmd });
    expect(d.get('e', 'b')).toBeUndefined();
    // A tag forgets the reference it names, in the engine's spelling; an untag or delete, what pointed to that image.
    keep('b');
    keep('c', 'sha256:shared');
    keep('registry.local:5000/team/d', 'sha256:shared');
    expect(d.get('e', 'a')).toEqual(cmd); // the unrelated tag above left it
    d.changed('e', { action: 'tag', id: 'sha256:new', name: 'a:latest' });
    expect(d.get('e', 'a')).toBeUndefined();
    expect(d.get('e', 'b')).toEqual(cmd);
    d.changed('e', { action: 'untag', id: 'sha256:shared', name: 'sha256:shared' });
    expect(d.get('e', 'c')).toBeUndefined();
    expect(d.get('e', 'registry.local:5000/team/d:latest')).toBeUndefined();
    expect(d.get('e', 'b')).toEqual(cmd);
    d.changed('e', { action: 'delete', id: 'sha256:b' });
    expect(d.get('e', 'b')).toBeUndefined();
    // Anything else (a pull, an import, a load, a prune) may move any reference.
    keep('a');
    d.changed('e', { action: 'pull', id: 'z:latest', name: 'z:latest' });
    expect(d.get('e', 'a')).toBeUndefined();
    keep('a');
    d.lost('e');
    expect(d.get('e', 'a')).toBeUndefined();
    keep('a');
    expect(d.get('e', 'a')).toBeUndefined(); // nor kept while the stream is down
    expect(['busybox', 'docker.io/library/busybox:1', 'index.docker.io/team/app', 'registry.local:5000/x', 'library/x/y:2', 'a@sha256:' + '0'.repeat(64)].map(familiarRef)).toEqual([
      'busybox:latest',
      'busybox:1',
      'team/app:latest',
      'registry.local:5000/x:latest',
      'library/x/y:2',
      'a@sha256:' + '0'.repeat(64),
    ]);
  });

  it('parses --mount and --port as docker spells them', () => {
    expect(parseMountFlag('/srv:/data:ro').value).toEqual({ type: 'bind', source: '/srv', target: '/data', readOnly: true });
    expect(parseMountFlag('vol:/data').value).toEqual({ type: 'volume', source: 'vol', target: '/data', readOnly: false });
    expect(parseMountFlag('a:b:c').problem).toContain('ro or rw');
    expect(parsePortFlag('8080:80').value).toEqual({ host: 8080, container: 80, protocol: 'tcp' });
    expect(parsePortFlag('127.0.0.1:53:53/udp').value).toEqual({ host: 53, container: 53, protocol: 'udp', hostIp: '127.0.0.1' });
    expect(parsePortFlag('127.0.0.1::80').value).toEqual({ container: 80, protocol: 'tcp', hostIp: '127.0.0.1' });
    expect(parsePortFlag('[::1]:8080:80').value).toEqual({ host: 8080, container: 80, protocol: 'tcp', hostIp: '::1' });
    expect(parsePortFlag('80').value).toEqual({ container: 80, protocol: 'tcp' });
    expect(parsePortFlag('http').problem).toBeDefined();
  });

  it('builds the engine create body from a spec', () => {
    const spec = containerCreateSchema.parse({
      driver: 'container', name: 'web', image: 'nginx:1', cmd: 'nginx', args: ['-g', 'daemon off;'], env: { A: '1' },
      mounts: [{ type: 'volume', source: 'v', target: '/d', readOnly: true }], ports: [{ host: 8080, container: 80 }, { container: 443 }],
      restart: { policy: 'always' }, cpus: 1.5, memoryMB: 256, cpuShares: 512,
    });
    const body = createOptions(spec, { id: 'abc', origin: 'test', node: 'n1' });
    expect(body).toMatchObject({
      name: 'web', Image: 'nginx:1', Cmd: ['nginx', '-g', 'daemon off;'], Env: ['A=1'],
      ExposedPorts: { '80/tcp': {}, '443/tcp': {} },
      Labels: { 'io.novacron.managed': 'true', 'io.novacron.id': 'abc', 'io.novacron.image': 'nginx:1' },
      HostConfig: {
        Mounts: [{ Type: 'volume', Source: 'v', Target: '/d', ReadOnly: true }],
        PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '443/tcp': [{ HostIp: '', HostPort: '' }] },
        RestartPolicy: { Name: 'always', MaximumRetryCount: 0 }, NanoCpus: 1.5e9, Memory: 256 * 1024 * 1024, CpuShares: 512,
      },
    });
    expect(containerCreateSchema.safeParse({ driver: 'container', name: 'web', image: 'x', network: 'host', ports: [{ container: 80 }] }).success).toBe(false);
  });

  it('leaves out of the create body what the spec leaves unset: an empty host config costs the engine its full validation', () => {
    const body = createOptions(containerCreateSchema.parse({ driver: 'container', name: 'bare', image: 'busybox', cmd: 'sleep', args: ['1'] }), { id: 'abc', origin: 'test', node: 'n1' });
    expect(Object.keys(body).sort()).toEqual(['Cmd', 'Image', 'Labels', 'name']);
    expect(createOptions(containerCreateSchema.parse({ driver: 'container', name: 'mm', image: 'busybox', memoryMB: 8 }), { id: 'abc', origin: 'test', node: 'n1' }).HostConfig).toEqual({ Memory: 8 * 1024 * 1024 });
  });

  it('maps engine statuses to our codes as data, keeping the engine message', () => {
    expect(codeFor(404, 'No such container: x')).toBe('NOT_FOUND');
    expect(codeFor(409, 'Conflict')).toBe('CONFLICT');
    expect(codeFor(400, 'bad')).toBe('INVALID_ARGUMENT');
    expect(codeFor(500, 'driver failed programming external connectivity: Bind for 0.0.0.0:80 failed: port is already allocated')).toBe('CONFLICT');
    expect(codeFor(500, 'something odd')).toBe('INTERNAL');
    const e = Object.assign(new Error('(HTTP code 404) no such container - No such container: abc '), { statusCode: 404, json: { message: 'No such container: abc' } });
    expect(engineError(e, 'start').toData()).toEqual({ code: 'NOT_FOUND', message: 'container: start: No such container: abc', driver: 'container' });
    const sock = Object.assign(new Error('connect EACCES /var/run/docker.sock'), { code: 'EACCES', address: '/var/run/docker.sock' });
    expect(engineError(sock).toData()).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('permission denied') });
  });

  it('parses engine addresses: unix, tcp, ssh, and refuses the rest', () => {
    expect(parseEngineAddress('unix:///var/run/docker.sock')).toMatchObject({ kind: 'unix', path: '/var/run/docker.sock' });
    expect(parseEngineAddress('/run/other.sock')).toMatchObject({ kind: 'unix', text: 'unix:///run/other.sock' });
    expect(parseEngineAddress('tcp://10.0.0.2:2375')).toMatchObject({ kind: 'tcp', host: '10.0.0.2', port: 2375, tls: false });
    expect(parseEngineAddress('ssh://admin@host.example:2222')).toMatchObject({ kind: 'ssh', user: 'admin', host: 'host.example', port: 2222 });
    expect(() => parseEngineAddress('ftp://x', 'to')).toThrow(/to: 'ftp:' engines are not supported/);
    expect(() => parseEngineAddress('unix://relative', 'to')).toThrow(/unix:\/\/\/absolute/);
  });

  it('computes CPU % and memory exactly as the docker CLI does', () => {
    const s = {
      cpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
      precpu_stats: { cpu_usage: { total_usage: 1_500_000_000 }, system_cpu_usage: 18_000_000_000 },
    };
    // 0.5 s of CPU over 2 s of the system's (two CPUs for 1 s): a quarter, times 2 CPUs = 50 %.
    expect(dockerCpuPercent(s)).toBe(50);
    expect(dockerCpuPercent({ cpu_stats: s.cpu_stats })).toBeUndefined();
    expect(dockerMemory({ usage: 1000, stats: { total_inactive_file: 300 } })).toBe(700);
    expect(dockerMemory({ usage: 1000, stats: { inactive_file: 2000 } })).toBe(1000);
  });

  it('finds a container cgroup from /proc/<pid>/cgroup, v1 and v2', () => {
    const id = 'f'.repeat(64);
    const v1 = `9:name=systemd:/docker/${id}\n7:blkio:/docker/${id}\n4:memory:/docker/${id}\n2:cpu,cpuacct:/docker/${id}\n0::/docker/${id}\n`;
    expect(cgroupFilesOf(v1, id)).toEqual({ version: 1, cpu: `/sys/fs/cgroup/cpu,cpuacct/docker/${id}`, memory: `/sys/fs/cgroup/memory/docker/${id}`, blkio: `/sys/fs/cgroup/blkio/docker/${id}` });
    expect(cgroupFilesOf(`0::/system.slice/docker-${id}.scope\n`, id)).toMatchObject({ version: 2, cpu: `/sys/fs/cgroup/system.slice/docker-${id}.scope` });
    expect(cgroupFilesOf('0::/user.slice\n', id)).toBeUndefined();
    expect(parseNetDev('Inter-|\n face |\n    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0\n  eth0: 500 5 0 0 0 0 0 0 300 3 0 0 0 0 0 0\n')).toEqual({ rx: 500, tx: 300 });
    // Counters that fill their column (no space after the colon), two interfaces, no final newline.
    expect(parseNetDev('Inter-|\n face |\n  eth0:12345678901 5 0 0 0 0 0 0 300 3 0 0 0 0 0 0\n  eth1: 1 1 0 0 0 0 0 0 2 1 0 0 0 0 0 0')).toEqual({ rx: 12345678902, tx: 302 });
    // Every network namespace of this machine, against splitting the lines.
    const split = (text: string) => {
      let rx = 0;
      let tx = 0;
      for (const line of text.split('\n').slice(2)) {
        const [name, rest] = line.split(':');
        if (!rest || name?.trim() === 'lo') continue;
        const f = rest.trim().split(/\s+/).map(Number);
        rx += f[0] ?? 0;
        tx += f[8] ?? 0;
      }
      return { rx, tx };
    };
    let compared = 0;
    for (const e of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
      let text: string;
      try {
        text = readFileSync(`/proc/${e}/net/dev`, 'latin1');
      } catch {
        continue;
      }
      expect(parseNetDev(text)).toEqual(split(text));
      compared++;
    }
    expect(compared).toBeGreaterThan(0);
  });

  it('finds one field of a cgroup stat file: the first line, a middle one, the last without a newline, never a longer name', () => {
    const stat = 'cache 4096\ninactive_file 300\ntotal_inactive_file 700\nhierarchical_memory_limit 9223372036854771712';
    expect(statField(stat, 'cache')).toBe(4096);
    expect(statField(stat, 'inactive_file')).toBe(300);
    expect(statField(stat, 'total_inactive_file')).toBe(700);
    expect(statField(stat, 'hierarchical_memory_limit')).toBe(9223372036854771712);
    expect(statField(stat, 'file')).toBeUndefined();
    expect(statField('usage_usec 1234\nuser_usec 1000\n', 'usage_usec')).toBe(1234);
  });

  it('reads exits in our words', () => {
    const base = { Status: 'exited', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, Error: '', StartedAt: '', FinishedAt: '2024-01-01T00:00:00Z' };
    expect(exitOf({ ...base, ExitCode: 0 })).toMatchObject({ state: 'exited' });
    expect(exitOf({ ...base, ExitCode: 137 })).toMatchObject({ state: 'stopped', exit: { signal: 'SIGKILL' } });
    expect(exitOf({ ...base, ExitCode: 137, OOMKilled: true })).toMatchObject({ state: 'crashed', exit: { reason: 'killed: out of memory (OOM)' } });
    expect(exitOf({ ...base, ExitCode: 139 })).toMatchObject({ state: 'crashed', exit: { reason: 'killed by SIGSEGV' } });
    expect(exitOf({ ...base, ExitCode: 3 })).toMatchObject({ state: 'crashed', exit: { code: 3 } });
  });

  it('names snapshot images after the container, lowercase', () => {
    expect(snapshotRepo('Web_App', 'abc123')).toBe('novacron-snapshot/web_app-abc123');
    expect(snapshotRepo('x..y_', '0f')).toBe('novacron-snapshot/x-y-0f');
    expect(splitStamp('2024-05-01T10:00:00.123456789Z hello world')).toEqual({ ts: '2024-05-01T10:00:00.123456789Z', line: 'hello world' });
    expect(splitStamp('no stamp')).toEqual({ line: 'no stamp' });
  });

  describe('tells a docker save archive from a root filesystem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nc-ct-tar-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const tarOf = (name: string, files: Record<string, string>, gzip = false) => {
      const src = join(dir, `${name}.d`);
      for (const [f, text] of Object.entries(files)) {
        mkdirSync(join(src, f, '..'), { recursive: true });
        writeFileSync(join(src, f), text);
      }
      const out = join(dir, name);
      execFileSync('tar', ['-C', src, gzip ? '-czf' : '-cf', out, ...Object.keys(files)]);
      return out;
    };
    it('by its manifest, plain or gzipped', async () => {
      expect(await tarKind(tarOf('save.tar', { 'abc/layer.tar': 'x'.repeat(3000), 'manifest.json': '[]' }))).toBe('image-archive');
      expect(await tarKind(tarOf('oci.tar', { 'oci-layout': '{}', 'index.json': '{}' }))).toBe('image-archive');
      expect(await tarKind(tarOf('rootfs.tar', { 'bin/sh': 'x', 'etc/passwd': 'root' }))).toBe('rootfs');
      expect(await tarKind(tarOf('save.tgz', { 'abc/layer.tar': 'x'.repeat(3000), 'manifest.json': '[]' }, true))).toBe('image-archive');
      expect(await tarKind(tarOf('rootfs.tgz', { 'bin/sh': 'x' }, true))).toBe('rootfs');
    });
  });
});
