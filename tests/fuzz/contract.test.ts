import { describe, expect, it } from 'vitest';
import { fuzzContract } from './run.js';

// `npm test` runs a short pass; `npm run soak` sets SOAK=1 for the 10,000-case run.
const SOAK = process.env.SOAK === '1';

describe('bad input: the contract and the CLI under fuzzing', () => {
  it(
    'never crashes, never writes outside the data dir, never spawns a shell',
    async () => {
      const f = await fuzzContract({ contractCases: SOAK ? 9000 : 1200, cliCases: SOAK ? 1000 : 150 });
      console.log(
        `fuzz figures: ${f.cases} cases tried · ${f.rejectedInvalid} rejected with INVALID_ARGUMENT · ${f.accepted} accepted · ` +
          `other errors ${JSON.stringify(f.otherErrors)} · crashes ${f.crashes.length} · files written outside the data dir ${f.writesOutside.length} · ` +
          `processes spawned through a shell ${f.shellSpawns.length} · sentinels found ${f.sentinelsFound.length}`,
      );
      expect(f.crashes).toEqual([]);
      expect(f.writesOutside).toEqual([]);
      expect(f.shellSpawns).toEqual([]);
      expect(f.sentinelsFound).toEqual([]);
      expect(f.cases).toBeGreaterThanOrEqual(SOAK ? 10_000 : 1300);
      expect(f.rejectedInvalid).toBeGreaterThan(f.cases / 3);
    },
    SOAK ? 1_800_000 : 240_000,
  );
});

describe('the fuzzer can fail', () => {
  it('its guards see a write outside the allowed roots and a spawn through a shell', async () => {
    const { installGuards } = await import('./guards.js');
    const g = installGuards(['/nonexistent-root']);
    const { writeFile, rm } = await import('node:fs/promises');
    const { execa } = await import('execa');
    try {
      await writeFile('/tmp/nc-guard-probe', 'x');
      await execa('echo hi', { shell: true });
    } finally {
      g.restore();
      await rm('/tmp/nc-guard-probe', { force: true });
    }
    expect(g.writesOutside).toContain('/tmp/nc-guard-probe');
    expect(g.shellSpawns.length).toBeGreaterThan(0);
  });
});
