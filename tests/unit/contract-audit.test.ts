import { describe, expect, it } from 'vitest';
import { METHOD_NAMES, STREAM_NAMES, methods, streams } from '../../shared/contract/index.js';

/**
 * The contract audit (issue 8): what the page can ask the core for. Every method and
 * stream names what it acts on, and the core checks it; none runs a command of the
 * page's choosing through a shell, reads a file and hands it back, or writes outside the
 * data dir. A method or stream added later fails this test until it is audited here
 * (and in the README's table).
 */
type Acts = 'nothing' | 'a driver' | 'a workload' | 'a new workload' | 'a snapshot' | 'an image' | 'a session' | 'an operation' | 'config keys' | 'the event log' | 'a file in the data dir';
const AUDIT: Record<string, { acts: Acts; paths?: string; why: string }> = {
  'drivers.list': { acts: 'nothing', why: 'detection results only' },
  'workloads.list': { acts: 'a driver', why: 'driver id from a closed list' },
  'workloads.create': {
    acts: 'a new workload',
    paths: 'kvm disks/iso/kernel/initrd (existing regular files, read or used by QEMU), process cmd/cwd (an existing executable, a directory), container and containerd bind mounts',
    why: 'the admin hands host resources to the workload; they are checked (absolute, no control characters, the right kind of file) and never read back to the page',
  },
  'workloads.inspect': { acts: 'a workload', why: 'DRIVER:LOCAL, LOCAL checked by its driver (12 hex for kvm/process, a name or id for the engines)' },
  'workloads.start': { acts: 'a workload', why: 'as inspect' },
  'workloads.stop': { acts: 'a workload', why: 'as inspect' },
  'workloads.restart': { acts: 'a workload', why: 'as inspect' },
  'workloads.pause': { acts: 'a workload', why: 'as inspect' },
  'workloads.resume': { acts: 'a workload', why: 'as inspect' },
  'workloads.delete': { acts: 'a workload', why: 'removes only the workload’s own directory; external disks stay' },
  'workloads.stats': { acts: 'a workload', why: 'as inspect' },
  'workloads.scale': { acts: 'a workload', why: 'as inspect' },
  'workloads.migrate': { acts: 'a workload', why: 'target is local, tcp:HOST:PORT (kvm) or an engine address (container), each parsed' },
  'workloads.convert': { acts: 'a workload', why: 'as inspect, to a driver from a closed list (kvm or libvirt); moves only that VM’s own disks within the data dir or to libvirt' },
  'snapshots.list': { acts: 'a workload', why: 'as inspect' },
  'snapshots.create': { acts: 'a snapshot', why: 'workload id + a name (letters, digits, _ . -)' },
  'snapshots.revert': { acts: 'a snapshot', why: 'as create' },
  'snapshots.delete': { acts: 'a snapshot', why: 'as create' },
  'images.list': { acts: 'a driver', why: 'driver id' },
  'images.import': { acts: 'an image', paths: 'file: an archive the engine imports', why: 'read and streamed into the engine, never back to the page; must be a tar archive' },
  'images.pull': { acts: 'an image', why: 'a reference checked before the engine sees it' },
  'images.delete': { acts: 'an image', why: 'a reference' },
  'console.open': { acts: 'a workload', why: 'returns a one-time 30 s ticket bound to that workload' },
  'terminal.input': { acts: 'a session', why: 'a session id bound to the connection that opened it and to one workload' },
  'terminal.resize': { acts: 'a session', why: 'as input' },
  'operations.cancel': { acts: 'an operation', why: 'an op id of a running long operation' },
  'config.get': { acts: 'nothing', why: 'the effective settings' },
  'config.set': { acts: 'config keys', why: 'known keys, each validated; keys naming a program or a directory are refused from the page (admin only)' },
  'events.list': { acts: 'the event log', why: 'filters only' },
  'vnc.list': { acts: 'nothing', why: 'the saved connections, passwords left out' },
  'vnc.save': { acts: 'a file in the data dir', paths: 'vnc-connections.json (0600)', why: 'host/port or a socket; in the web mode only targets inside `serve --vnc-allow`, else refused' },
  'vnc.delete': { acts: 'a session', why: 'a saved connection id' },
  'vnc.open': { acts: 'a session', why: 'a saved connection id; a one-time 30 s ticket, the target checked against --vnc-allow in the web mode at connect time' },
  'uploads.begin': { acts: 'a file in the data dir', paths: 'uploads/<random id>: the name given is shown, never a path', why: 'size checked against the free space first' },
  'uploads.write': { acts: 'a file in the data dir', paths: 'that upload only, at its offset, up to its declared size', why: 'chunks in order' },
  'uploads.finish': { acts: 'a file in the data dir', paths: 'returns the upload’s own path for images.import', why: 'complete uploads only' },
  'uploads.discard': { acts: 'a file in the data dir', why: 'removes that upload only' },
  'diag.create': { acts: 'a file in the data dir', paths: 'out: a directory or new file inside the data dir (links resolved), never overwritten', why: 'bundle contents are redacted' },
};
const STREAM_AUDIT: Record<string, { acts: Acts; why: string }> = {
  events: { acts: 'nothing', why: 'workload changes and notices' },
  metrics: { acts: 'a workload', why: 'as inspect' },
  logs: { acts: 'a workload', why: 'the workload’s own log files, found from its definition, never a path from the page' },
  terminal: { acts: 'a workload', why: 'a TTY in that workload: a VM’s serial port, or an exec inside a container (no shell on the host; processes have none)' },
  eventLog: { acts: 'the event log', why: 'filters only' },
  metricsBatch: { acts: 'a workload', why: 'a list of workload ids, each as inspect' },
};

describe('the contract audit', () => {
  it('covers every method and every stream', () => {
    expect(Object.keys(AUDIT).sort()).toEqual([...METHOD_NAMES].sort());
    expect(Object.keys(STREAM_AUDIT).sort()).toEqual([...STREAM_NAMES].sort());
  });

  it('has no method that reads a file back, runs a host command, or takes a path it does not say', () => {
    for (const name of METHOD_NAMES) expect(name, 'no generic file or shell verbs').not.toMatch(/file|read|exec|shell|spawn|run|eval|fs\./i);
    // Every input field that can hold a path is one the audit names.
    const pathy = /^(file|out|path|iso|kernel|initrd|base|cwd|source|cmd|mounts?)$/;
    const fieldsOf = (schema: unknown, acc: string[] = [], depth = 0): string[] => {
      const def = (schema as { def?: { type: string; shape?: unknown; innerType?: unknown; element?: unknown; options?: unknown[]; in?: unknown } }).def;
      if (!def || depth > 6) return acc;
      if (def.type === 'object') {
        for (const [k, v] of Object.entries((schema as { shape: Record<string, unknown> }).shape)) {
          acc.push(k);
          fieldsOf(v, acc, depth + 1);
        }
      }
      if (def.innerType) fieldsOf(def.innerType, acc, depth + 1);
      if (def.in) fieldsOf(def.in, acc, depth + 1);
      if (def.element) fieldsOf(def.element, acc, depth + 1);
      for (const o of def.options ?? []) fieldsOf(o, acc, depth + 1);
      return acc;
    };
    for (const name of METHOD_NAMES) {
      const withPaths = fieldsOf(methods[name].input).filter((f) => pathy.test(f));
      if (withPaths.length) expect(AUDIT[name]!.paths, `${name} takes ${withPaths.join(', ')}`).toBeDefined();
    }
    for (const name of STREAM_NAMES) expect(fieldsOf(streams[name].input).filter((f) => pathy.test(f) && f !== 'cmd'), name).toEqual([]);
  });
});
