import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tailFile } from '../../electron/core/base/tail.js';
import { tempHome } from '../helpers/home.js';
import { until } from '../helpers/core.js';

describe('tailFile', () => {
  const t = tempHome();
  afterAll(() => t.cleanup());

  it('returns the last N lines and ends when not following', async () => {
    const f = join(t.home, 'a.log');
    writeFileSync(f, Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n');
    const lines: string[] = [];
    await new Promise<void>((resolve, reject) => tailFile(f, { tail: 3, follow: false }, (l) => lines.push(...l), resolve, reject));
    expect(lines).toEqual(['line 97', 'line 98', 'line 99']);
  });

  it('follows appended lines, joining a line written in two parts', async () => {
    const f = join(t.home, 'b.log');
    writeFileSync(f, 'old\n');
    const lines: string[] = [];
    const d = tailFile(f, { tail: 0, follow: true }, (l) => lines.push(...l), () => undefined, (e) => { throw e; });
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(f, 'new 1\nhalf');
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(f, ' done\n');
    await until('two lines', () => lines, (l) => l.length >= 2);
    d.dispose();
    expect(lines).toEqual(['new 1', 'half done']);
  });

  it('reads a truncated file from the top', async () => {
    const f = join(t.home, 'c.log');
    writeFileSync(f, 'aaaaaaaaaaaaaaaa\n');
    const lines: string[] = [];
    const d = tailFile(f, { follow: true }, (l) => lines.push(...l), () => undefined, (e) => { throw e; });
    await until('first', () => lines, (l) => l.length === 1);
    writeFileSync(f, 'b\n');
    await until('after truncation', () => lines, (l) => l.length === 2);
    d.dispose();
    expect(lines).toEqual(['aaaaaaaaaaaaaaaa', 'b']);
  });
});
