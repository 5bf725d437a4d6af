import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../electron/cli/main.js';
import { CLI_TABLE } from './cli-cases.js';
import { fuzzContract } from './run.js';

// `npm test` runs a short pass; `npm run soak` sets SOAK=1 for the 10,000-case run.
const SOAK = process.env.SOAK === '1';

describe('bad input: the contract and the CLI under fuzzing', () => {
  it(
    'never crashes, never writes outside the data dir, never spawns a shell',
    async () => {
      const f = await fuzzContract(SOAK ? { contractCases: 8400, cliCases: 1500, childCases: 150 } : { contractCases: 1000, cliCases: 250, childCases: 6 });
      const methods = Object.values(f.perMethod);
      const streams = Object.values(f.perStream);
      console.log(
        `fuzz figures: ${f.cases} cases tried · ${f.rejectedInvalid} rejected with INVALID_ARGUMENT · crashes ${f.crashes.length} · ` +
          `files written outside the data dir ${f.writesOutside.length} · processes spawned through a shell ${f.shellSpawns.length}\n` +
          `  also: ${f.accepted} accepted · other errors ${JSON.stringify(f.otherErrors)} · shell-injection sentinels found ${f.sentinelsFound.length}\n` +
          `  coverage: ${methods.length} contract methods (${Math.min(...methods)}–${Math.max(...methods)} cases each) · ${streams.length} streams (${Math.min(...streams)}–${Math.max(...streams)} each) · ` +
          `${f.cliFlagsTried.length} CLI flags tried of ${f.cliFlagsTried.length + f.cliFlagsMissed.length}${f.cliFlagsMissed.length ? ` (missed: ${f.cliFlagsMissed.join(', ')})` : ''}`,
      );
      expect(f.crashes).toEqual([]);
      expect(f.writesOutside).toEqual([]);
      expect(f.shellSpawns).toEqual([]);
      expect(f.sentinelsFound).toEqual([]);
      expect(f.cases).toBeGreaterThanOrEqual(SOAK ? 10_000 : 1300);
      expect(f.rejectedInvalid).toBeGreaterThan(f.cases / 3);
      expect(Math.min(...methods)).toBeGreaterThan(SOAK ? 100 : 10);
      expect(Math.min(...streams)).toBeGreaterThan(SOAK ? 50 : 5);
      if (SOAK) expect(f.cliFlagsMissed).toEqual([]);
    },
    SOAK ? 3_600_000 : 240_000,
  );

  it('knows every CLI command', () => {
    expect(Object.keys(CLI_TABLE).sort()).toEqual(Object.keys(COMMANDS).sort());
  });
});

describe('the fuzzer can fail', () => {
  it('its guards see a write outside the allowed roots, through a link, and a spawn through a shell', async () => {
    const { installGuards } = await import('./guards.js');
    const { mkdtempSync, symlinkSync, rmSync } = await import('node:fs');
    const root = mkdtempSync('/tmp/nc-guard-root-');
    symlinkSync('/tmp', `${root}/out`);
    const g = installGuards([root]);
    const { writeFile, rm } = await import('node:fs/promises');
    const { execa } = await import('execa');
    const { exec } = await import('node:child_process');
    try {
      await writeFile('/tmp/nc-guard-probe', 'x');
      await writeFile(`${root}/out/nc-guard-probe2`, 'x');
      await writeFile(`${root}/inside`, 'x');
      await execa('echo hi', { shell: true });
      await new Promise((r) => exec('true', r));
    } finally {
      g.restore();
      await rm('/tmp/nc-guard-probe', { force: true });
      await rm('/tmp/nc-guard-probe2', { force: true });
      rmSync(root, { recursive: true, force: true });
    }
    expect(g.writesOutside).toContain('/tmp/nc-guard-probe');
    expect(g.writesOutside.some((w) => w.includes('nc-guard-probe2') && w.includes('→ /tmp/nc-guard-probe2'))).toBe(true);
    expect(g.writesOutside.some((w) => w.includes('inside'))).toBe(false);
    expect(g.shellSpawns.length).toBeGreaterThanOrEqual(2);
  });
});
