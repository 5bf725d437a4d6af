import type { NovaClient } from '../../shared/contract/client.js';

/** A terminal stream opened through the contract, as the UI opens it: read what it printed, type into it. */
export interface TestTerminal {
  output(): string;
  /** Wait until the output (since `from`) matches; returns the match. */
  expect(re: RegExp, ms?: number, from?: number): Promise<RegExpExecArray>;
  /** Type a line; returns the output offset before it, for expect(…, from). */
  send(text: string): Promise<number>;
  /** Run a shell command and return what it printed between two unique markers. */
  run(cmd: string, ms?: number): Promise<string>;
  close(): void;
}

export async function openTerminal(client: NovaClient, id: string, kind: 'serial' | 'exec' = 'serial'): Promise<TestTerminal> {
  let out = '';
  let session: string | undefined;
  let failed: string | undefined;
  const stop = client.subscribe('terminal', { id, kind, cols: 120, rows: 40 }, {
    event: (e) => {
      if (e.type === 'ready') session = e.session;
      if (e.type === 'data' && e.data) out += e.data;
    },
    error: (e) => (failed = `${e.code}: ${e.message}`),
  });
  const deadline = Date.now() + 10_000;
  while (!session) {
    if (failed) throw new Error(`terminal failed: ${failed}`);
    if (Date.now() > deadline) throw new Error('terminal did not become ready');
    await new Promise((r) => setTimeout(r, 20));
  }
  const t: TestTerminal = {
    output: () => out,
    async expect(re, ms = 15_000, from = 0) {
      const until = Date.now() + ms;
      for (;;) {
        const m = re.exec(out.slice(from));
        if (m) return m;
        if (failed) throw new Error(`terminal failed: ${failed}`);
        if (Date.now() > until) throw new Error(`terminal output did not match ${re} within ${ms} ms; last output: ${JSON.stringify(out.slice(-600))}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async send(text) {
      const at = out.length;
      await client.call('terminal.input', { session: session!, data: text });
      return at;
    },
    async run(cmd, ms = 15_000) {
      const tag = Math.random().toString(36).slice(2, 8);
      // The markers are built by the shell, so the echo of the typed line never matches them.
      const from = await t.send(`echo BEGIN""${tag}; ${cmd}; echo END""${tag}\r`);
      const m = await t.expect(new RegExp(`BEGIN${tag}\\r?\\n([\\s\\S]*?)END${tag}`), ms, from);
      return m[1]!.replace(/\r/g, '').trim();
    },
    close: stop,
  };
  return t;
}
