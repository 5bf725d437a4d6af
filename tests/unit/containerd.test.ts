import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { imageRefProblem, containerdCreateSchema } from '../../shared/drivers/containerd.js';
import { decodeAny, packAny } from '../../electron/core/drivers/containerd/api/codec.js';
import { chainIds, sha256 } from '../../electron/core/drivers/containerd/images/oci.js';
import { TarIndex } from '../../electron/core/drivers/containerd/images/tar.js';
import { fromV1, fromV2 } from '../../electron/core/drivers/containerd/metrics.js';
import { runtimeOf } from '../../electron/core/drivers/containerd/runtimes.js';
import { commandOf, envOf, generateSpec } from '../../electron/core/drivers/containerd/spec.js';
import { exitOf } from '../../electron/core/drivers/containerd/workloads.js';

describe('containerd: metrics of both cgroup versions, through the protobuf codec', () => {
  it('reads the cgroup v1 shape (CPU in ns, memory less inactive file cache, blkio by op)', () => {
    const any = packAny('io.containerd.cgroups.v1.Metrics', {
      cpu: { usage: { total: 5_000_000_000 } },
      memory: { total_inactive_file: 1000, usage: { usage: 11_000, limit: 64 * 1024 * 1024 } },
      blkio: { io_service_bytes_recursive: [{ op: 'Read', value: 10 }, { op: 'Write', value: 20 }, { op: 'Read', value: 5 }, { op: 'Total', value: 35 }] },
    });
    const d = decodeAny<Parameters<typeof fromV1>[0]>(any)!;
    expect(d.type).toBe('io.containerd.cgroups.v1.Metrics');
    expect(fromV1(d.value, 1)).toEqual({
      ts: 1,
      cpuNs: 5_000_000_000,
      memoryBytes: 10_000,
      memoryLimitBytes: 64 * 1024 * 1024,
      diskReadBytes: 15,
      diskWriteBytes: 20,
      source: 'containerd (cgroup v1)',
    });
    // "No limit" in v1 is a huge number, not a limit.
    const unlimited = decodeAny<Parameters<typeof fromV1>[0]>(packAny('io.containerd.cgroups.v1.Metrics', { memory: { usage: { usage: 1, limit: 9223372036854771712 } } }))!;
    expect(fromV1(unlimited.value, 1).memoryLimitBytes).toBeUndefined();
  });

  it('reads the cgroup v2 shape (CPU in µs, io by device), named by the Any type URL', () => {
    const any = packAny('io.containerd.cgroups.v2.Metrics', {
      cpu: { usage_usec: 2_500_000 },
      memory: { usage: 4096, inactive_file: 96, usage_limit: 128 * 1024 * 1024 },
      io: { usage: [{ rbytes: 1, wbytes: 2 }, { rbytes: 3, wbytes: 4 }] },
    });
    const d = decodeAny<Parameters<typeof fromV2>[0]>({ ...any, type_url: `types.googleapis.com/${any.type_url}` })!;
    expect(d.type).toBe('io.containerd.cgroups.v2.Metrics');
    expect(fromV2(d.value, 2)).toEqual({
      ts: 2,
      cpuNs: 2_500_000_000,
      memoryBytes: 4000,
      memoryLimitBytes: 128 * 1024 * 1024,
      diskReadBytes: 4,
      diskWriteBytes: 6,
      source: 'containerd (cgroup v2)',
    });
  });

  it('leaves types it does not know undecoded', () => {
    expect(decodeAny({ type_url: 'example.Unknown', value: Buffer.from([1, 2]) })).toBeUndefined();
  });
});

describe('containerd: image format helpers', () => {
  it('derives chain ids as containerd names unpacked snapshots', () => {
    const a = sha256('a');
    const b = sha256('b');
    expect(chainIds([a])).toEqual([a]);
    expect(chainIds([a, b])).toEqual([a, sha256(`${a} ${b}`)]);
  });

  it('refuses image references that are not references', () => {
    expect(imageRefProblem('busybox:latest')).toBeUndefined();
    expect(imageRefProblem('registry.local:5000/team/app:1.0')).toBeUndefined();
    expect(imageRefProblem(`busybox@sha256:${'a'.repeat(64)}`)).toBeUndefined();
    expect(imageRefProblem('')).toMatch(/empty/);
    expect(imageRefProblem('Busy Box')).toMatch(/spaces/);
    expect(imageRefProblem('UPPER/case')).toMatch(/lowercase/);
    expect(imageRefProblem('a/../b')).toMatch(/\.\./);
  });

  const dir = mkdtempSync(join(tmpdir(), 'nc-tar-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('indexes a tar archive, long names and links included', async () => {
    const root = join(dir, 'root');
    const long = `${'d'.repeat(90)}/${'f'.repeat(60)}.json`;
    execFileSync('mkdir', ['-p', join(root, 'd'.repeat(90)), join(root, 'layer'), join(root, 'again')]);
    writeFileSync(join(root, long), '{"long":true}');
    writeFileSync(join(root, 'layer', 'layer.tar'), 'LAYER');
    // As `docker save` links a layer that two images share.
    symlinkSync('../layer/layer.tar', join(root, 'again', 'layer.tar'));
    const tar = join(dir, 'a.tar');
    execFileSync('tar', ['-C', root, '--format=pax', '-cf', tar, '.']);
    const index = await TarIndex.read(tar);
    expect((await index.bytes(index.get(long)!)).toString()).toBe('{"long":true}');
    expect((await index.bytes(index.get('./layer/layer.tar')!)).toString()).toBe('LAYER');
    expect((await index.bytes(index.get('again/layer.tar')!)).toString()).toBe('LAYER');
    expect(index.get('missing')).toBeUndefined();
  });
});

describe('containerd: the OCI runtime spec', () => {
  const image = { config: { Env: ['PATH=/bin', 'A=image'], Entrypoint: ['/entry'], Cmd: ['default'], WorkingDir: '/work' }, rootfs: { type: 'layers', diff_ids: [] } };

  it('takes the command from the spec, else the image', () => {
    expect(commandOf({ image, cmd: '/bin/sh', args: ['-c', 'x'] })).toEqual(['/bin/sh', '-c', 'x']);
    expect(commandOf({ image, args: [] })).toEqual(['/entry', 'default']);
    expect(commandOf({ image, args: ['other'] })).toEqual(['/entry', 'other']);
    expect(envOf(image.config.Env, { A: 'mine', B: 'b' })).toEqual(['PATH=/bin', 'A=mine', 'B=b']);
  });

  it('puts limits, mounts and the cgroup path where runc and runsc read them', () => {
    const spec = generateSpec({ namespace: 'ns', id: 'web', image, args: [], env: {}, mounts: [{ source: '/srv', target: '/data', readOnly: true }], memoryMB: 64, cpus: 1.5 });
    expect(spec.linux.resources.memory).toEqual({ limit: 64 * 1024 * 1024, swap: 64 * 1024 * 1024 });
    expect(spec.linux.resources.cpu).toEqual({ quota: 150_000, period: 100_000 });
    expect(spec.linux.cgroupsPath).toBe('/ns/web');
    expect(spec.mounts.at(-1)).toEqual({ destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'rprivate', 'ro'] });
    expect(spec.process.cwd).toBe('/work');
    expect(spec.linux.namespaces.map((n) => n.type)).toContain('network');
  });
});

describe('containerd: create spec and names', () => {
  it('validates the create spec with field paths', () => {
    const ok = containerdCreateSchema.safeParse({ driver: 'containerd', name: 'web', image: 'busybox:latest', runtime: 'runsc', cpus: 0.5 });
    expect(ok.success).toBe(true);
    const bad = containerdCreateSchema.safeParse({ driver: 'containerd', name: 'web', image: 'busybox', mounts: [{ source: '/a', target: '/' }] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['mounts', 0, 'target']);
  });

  it('tells the sandbox from the runtime record, for containers made by others', () => {
    expect(runtimeOf('io.containerd.runc.v2', undefined, 'io.containerd.kata.v2')).toBe('runc');
    expect(runtimeOf('io.containerd.runc.v2', '/usr/bin/runsc', 'io.containerd.kata.v2')).toBe('runsc');
    expect(runtimeOf('io.containerd.runsc.v1', undefined, 'io.containerd.kata.v2')).toBe('runsc');
    expect(runtimeOf('io.containerd.kata.v2', undefined, 'io.containerd.kata.v2')).toBe('kata');
  });

  it('names how a task ended', () => {
    expect(exitOf(0)).toMatchObject({ code: 0, reason: 'exited with status 0' });
    expect(exitOf(137)).toMatchObject({ code: 137, signal: 'SIGKILL', reason: 'killed by SIGKILL (exit status 137)' });
  });
});
