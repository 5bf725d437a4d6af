import { describe, expect, it } from 'vitest';
import { roundOrders } from '../../bench/lib/lifecycle.js';

describe("the lifecycle bench's round orders", () => {
  it.each([2, 3, 4, 5])('with %i paths, every path runs first equally often and right after every other one equally often', (n) => {
    const rows = roundOrders(n);
    for (const r of rows) expect([...r].sort()).toEqual([...Array(n).keys()]);
    const firsts = new Map<number, number>();
    const after = new Map<string, number>();
    for (const r of rows) {
      firsts.set(r[0]!, (firsts.get(r[0]!) ?? 0) + 1);
      for (let i = 1; i < n; i++) after.set(`${r[i - 1]}>${r[i]}`, (after.get(`${r[i - 1]}>${r[i]}`) ?? 0) + 1);
    }
    expect(firsts.size).toBe(n);
    expect(new Set(firsts.values()).size).toBe(1);
    expect(after.size).toBe(n * (n - 1));
    expect(new Set(after.values()).size).toBe(1);
  });
});
