import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PinnedFile, PinnedSet } from '../../electron/core/base/pinned.js';
import { ToolFacts } from '../../electron/core/base/tool-facts.js';
import { PinnedProc } from '../../electron/core/drivers/process/pinned-proc.js';
import { readStatSync } from '../../electron/core/base/procfs.js';

const dir = mkdtempSync(join(tmpdir(), 'nc-pinned-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pinned /proc files', () => {
  it('follow one process and fail once it has ended, whatever gets its pid', async () => {
    const child = spawn('sleep', ['30']);
    await new Promise((r) => child.once('spawn', r));
    const pid = child.pid!;
    const st = readStatSync(pid)!;
    const p = PinnedProc.open(pid, st.startTicks)!;
    expect(p.sample()).toMatchObject({ source: 'procfs', cpuNs: expect.any(Number), memoryBytes: expect.any(Number) });
    expect(PinnedProc.open(pid, st.startTicks + 1)).toBeUndefined(); // another start time: another process
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(p.sample()).toBeUndefined();
    p.dispose();
    expect(PinnedFile.open('/proc/self/does-not-exist')).toBeUndefined();
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
