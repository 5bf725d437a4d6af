import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PinnedFile, PinnedSet } from '../../electron/core/base/pinned.js';
import { ToolFacts } from '../../electron/core/base/tool-facts.js';
import { PinnedProc } from '../../electron/core/drivers/process/pinned-proc.js';
import { readStatSync } from '../../electron/core/base/procfs.js';
import { readPinnedStat, type PinnedStat } from '../../electron/core/base/pinned-stat.js';

const dir = mkdtempSync(join(tmpdir(), 'nc-pinned-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pinned /proc files', () => {
  it('follow one process and fail once it has ended, whatever gets its pid', async () => {
    const child = spawn('sleep', ['30']);
    await new Promise((r) => child.once('spawn', r));
    const pid = child.pid!;
    const st = readStatSync(pid)!;
    const stats = new PinnedSet<PinnedStat>();
    const p = PinnedProc.open(pid, st.startTicks, stats)!;
    expect(p.sample()).toMatchObject({ source: 'procfs', cpuNs: expect.any(Number), memoryBytes: expect.any(Number) });
    expect(PinnedProc.open(pid, st.startTicks + 1, stats)).toBeUndefined(); // another start time: another process
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(p.sample()).toBeUndefined();
    p.dispose();
    stats.dispose();
    expect(PinnedFile.open('/proc/self/does-not-exist')).toBeUndefined();
  });

  it("gives a listing the metrics' read of a process's stat while it is recent, and reads anew once it is not", async () => {
    const child = spawn('sleep', ['30']);
    await new Promise((r) => child.once('spawn', r));
    const pid = child.pid!;
    const { startTicks } = readStatSync(pid)!;
    const stats = new PinnedSet<PinnedStat>();
    const p = PinnedProc.open(pid, startTicks, stats)!;
    p.sample();
    const fresh = readPinnedStat(stats, pid, startTicks); // a read now: a new object each time
    expect(readPinnedStat(stats, pid, startTicks, 500)).toBe(fresh); // within 500 ms: that very read
    child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 100));
    expect(readPinnedStat(stats, pid, startTicks, 50)?.state).toBe('T'); // older than 50 ms: read again, and it is stopped
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(readPinnedStat(stats, pid, startTicks)).toBeUndefined();
    p.dispose();
    stats.dispose();
  });

  it('re-reads a file from its start and drops entries nobody asked for', () => {
    const f = PinnedFile.open('/proc/self/stat')!;
    expect(f.read()).toMatch(/^\d+ \(/);
    expect(f.read()).toMatch(/^\d+ \(/);
    const set = new PinnedSet<PinnedFile>(0);
    set.set('a', f);
    expect(set.get('a')).toBe(f);
    set.dispose();
    expect(f.read()).toBeUndefined();
  });
});

describe('tool facts', () => {
  it('remembers a program’s answer until the program file changes', async () => {
    const bin = join(dir, 'fake-tool');
    writeFileSync(bin, '#!/bin/sh\necho v1\n');
    chmodSync(bin, 0o755);
    const facts = ToolFacts.at(join(dir, 'state', 'tool-facts.json'));
    let runs = 0;
    const ask = () => facts.output(bin, ['--version'], async () => `answer ${++runs}`);
    expect(await ask()).toBe('answer 1');
    expect(await ask()).toBe('answer 1');
    // Another process reads what this one saved.
    expect(await ToolFacts.at(join(dir, 'state', '..', 'state', 'tool-facts.json')).output(bin, ['--version'], async () => 'not asked')).toBe('answer 1');
    writeFileSync(bin, '#!/bin/sh\necho version two\n');
    expect(await ask()).toBe('answer 2');
    // A failed run is not remembered.
    expect(await facts.output(bin, ['--help'], async () => undefined)).toBeUndefined();
    expect(await facts.output(bin, ['--help'], async () => 'now')).toBe('now');
  });
});
