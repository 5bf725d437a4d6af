import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord, OperationRecord } from '../../shared/observability.js';
import { EventLog, parseEventLine } from '../../electron/core/observability/event-log.js';
import { cli, serve } from '../helpers/cli.js';
import { until } from '../helpers/core.js';
import { tempHome } from '../helpers/home.js';
import { wsClient } from '../helpers/ws-client.js';

/** The writer helper as a runnable bundle: a real separate process appending to the log. */
async function bundleWriter(dir: string): Promise<string> {
  const out = join(dir, 'writer.mjs');
  await build({ entryPoints: [join(import.meta.dirname, '..', 'helpers', 'event-writer.ts')], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'warning' });
  return out;
}

function startWriter(script: string, stateDir: string, tag: string, count: number, maxBytes: number): { child: ChildProcess; ready: Promise<void>; done: Promise<number | null> } {
  const child = spawn(process.execPath, [script, stateDir, tag, String(count), String(maxBytes)], { stdio: ['ignore', 'pipe', 'inherit'], cwd: join(import.meta.dirname, '..', '..') });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`writer ${tag} exited with ${code} before it was ready`)));
  });
  const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, ready, done };
}

describe('the event log file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nc-obs-log-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every line whole or absent with two processes appending, one killed -9, across rotations', async () => {
    const script = await bundleWriter(dir);
    const state = join(dir, 'state');
    // Small files, so both writers rotate many times while they race (and enough of them kept that none is dropped).
    const survivor = startWriter(script, state, 'A', 20_000, 256 * 1024);
    const victim = startWriter(script, state, 'B', 10_000_000, 256 * 1024);
    await Promise.all([survivor.ready, victim.ready]);
    await new Promise((r) => setTimeout(r, 250));
    expect(survivor.child.exitCode).toBeNull(); // both are still writing when one is killed
    victim.child.kill('SIGKILL');
    expect(await victim.done).toBeNull();
    expect(await survivor.done).toBe(0);

    const log = new EventLog(state, () => 'h', (l) => l, { maxBytes: 256 * 1024, keep: 400 });
    const { events } = await log.list({}, 10_000_000);
    const seq = (tag: string) => events.filter((e): e is OperationRecord => e.kind === 'operation' && e.target?.startsWith(`${tag}:`) === true).map((e) => Number(e.target!.slice(2)));
    // The survivor: nothing lost, nothing twice.
    const a = seq('A');
    expect(a.length).toBe(20_000);
    expect(new Set(a).size).toBe(20_000);
    // The victim wrote a prefix of its sequence: every line before the kill is there, whole.
    const b = [...new Set(seq('B'))].sort((x, y) => x - y);
    expect(b.length).toBeGreaterThan(100);
    expect(b.every((v, i) => v === i)).toBe(true); // at most its very last line is missing
    // Each record a reader returns is whole: its padding has the length its index says.
    for (const e of events) expect((e.name ?? '').length).toBe(Number((e as OperationRecord).target!.slice(2)) % 300);

    // On disk, every line but (at most) one torn by the kill parses as it is.
    const files = readdirSync(state).filter((f) => f.startsWith('events.jsonl') && !f.endsWith('.lock'));
    expect(files.length).toBeGreaterThan(3);
    let bad = 0;
    for (const f of files) for (const line of readFileSync(join(state, f), 'utf8').split('\n')) if (line && parseEventLine(line) === undefined) bad++;
    expect(bad).toBeLessThanOrEqual(1);
    log.dispose();
  });

  it('recovers a whole line glued onto a torn one', () => {
    const whole = JSON.stringify({ ts: '2025-01-01T00:00:00.000Z', id: '1', kind: 'notice', level: 'info', message: 'ok {"ts": inside' });
    expect(parseEventLine(`{"ts":"2025-01-01T00:00:00.000Z","id":"9","kind":"oper${whole}`)).toMatchObject({ id: '1' });
    expect(parseEventLine('{"ts":"2025-01-01T00:00:00.000Z","id":"9","ki')).toBeUndefined();
  });
});

describe('operations from the CLI and from the web UI, in one log', () => {
  const t = tempHome('nc-obs-ev-');
  let srv: Awaited<ReturnType<typeof serve>>;
  /** `events --follow` never ends by itself: every follower is stopped here, whatever happened. */
  const followers: ChildProcess[] = [];
  const follow = (args: string[]) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'novacron.mjs'), 'events', '--follow', ...args], { env: t.env, stdio: ['ignore', 'pipe', 'ignore'] });
    followers.push(child);
    return child;
  };
  beforeAll(async () => {
    srv = await serve(t.env);
  });
  afterAll(async () => {
    for (const f of followers) if (f.exitCode === null) f.kill('SIGKILL');
    await srv.stop();
    t.cleanup();
  });

  it('records who, what, result and duration, in order, readable with `novacron events`', async () => {
    const { client, close } = await wsClient(srv.url.replace('http', 'ws') + 'ws', { Cookie: `novacron_token=${srv.token}` });
    // A follower started first sees everything that follows, from every process.
    const follower = follow(['--json', '--limit', '100']);
    let followed = '';
    follower.stdout.on('data', (d: Buffer) => (followed += d.toString()));
    await new Promise((r) => setTimeout(r, 800));

    const id = (await cli(['create', '--driver', 'process', '--name', 'ev-sleeper', '--cmd', 'sleep', '--arg', '60'], t.env)).stdout.trim();
    await client.call('workloads.start', { id }); // the web UI's way in
    expect((await cli(['pause', id], t.env)).code).toBe(0);
    await client.call('workloads.resume', { id });
    await expect(client.call('workloads.start', { id })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await cli(['rm', '--force', 'ev-sleeper'], t.env)).code).toBe(0);

    const r = await cli(['events', '--json', '--kind', 'operation'], t.env);
    expect(r.code).toBe(0);
    const ops = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as OperationRecord);
    expect(ops.map((o) => [o.origin, o.method, o.result])).toEqual([
      ['cli', 'workloads.create', 'ok'],
      ['headless', 'workloads.start', 'ok'],
      ['cli', 'workloads.pause', 'ok'],
      ['headless', 'workloads.resume', 'ok'],
      ['headless', 'workloads.start', 'error'],
      ['cli', 'workloads.delete', 'ok'],
    ]);
    for (const o of ops) {
      expect(o).toMatchObject({ workloadId: id, driver: 'process', name: 'ev-sleeper' });
      expect(o.durationMs).toBeGreaterThanOrEqual(0);
    }
    expect(ops.map((o) => o.state)).toEqual(['stopped', 'running', 'paused', 'running', undefined, 'removed']);
    expect(ops[4]!.error).toMatchObject({ code: 'CONFLICT' });
    // The same records through the contract, with filters.
    const viaWs = await client.call('events.list', { origin: 'headless', result: 'ok' });
    expect(viaWs.events.map((e) => (e as OperationRecord).method)).toEqual(['workloads.start', 'workloads.resume']);
    expect((await client.call('events.list', { workloadId: id, result: 'error' })).events).toHaveLength(1);
    await expect(client.call('events.list', { origin: 'martian' } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'origin' });

    // The human form names who did what.
    const human = (await cli(['events', '--workload', id], t.env)).stdout;
    expect(human).toMatch(/operation\s+headless workloads\.start ev-sleeper \(process:[0-9a-f]+\) ok → running \(\d+ ms\)/);

    // And the follower, another process, saw all six as they came.
    await until('the follower saw the delete', () => followed, (s) => s.includes('workloads.delete'), 10_000);
    follower.kill('SIGINT');
    const seen = followed.trim().split('\n').map((l) => JSON.parse(l) as EventRecord).filter((e): e is OperationRecord => e.kind === 'operation');
    expect(seen.map((o) => o.method)).toEqual(ops.map((o) => o.method));
    close();
  });

  it('records a crash the drivers report, once, however many processes watch', async () => {
    const id = (await cli(['create', '--driver', 'process', '--name', 'ev-crasher', '--cmd', '/bin/sh', '--arg=-c', '--arg', 'sleep 1; kill -9 $$'], t.env)).stdout.trim();
    // The server watches the drivers; a CLI follower does too: two watchers, one record.
    const follower = follow(['--limit', '0']);
    await new Promise((r) => setTimeout(r, 800));
    expect((await cli(['start', id], t.env)).code).toBe(0);
    const { client, close } = await wsClient(srv.url.replace('http', 'ws') + 'ws', { Cookie: `novacron_token=${srv.token}` });
    await until(
      'the crash is in the log',
      async () => (await client.call('events.list', { workloadId: id, kinds: ['state'] })).events,
      (e) => e.some((r) => r.kind === 'state' && (r.state === 'crashed' || r.state === 'exited')),
      15_000,
    );
    await new Promise((r) => setTimeout(r, 1500)); // give the second watcher its chance to repeat it
    const after = (await client.call('events.list', { workloadId: id, kinds: ['state'] })).events;
    expect(after.filter((r) => r.kind === 'state' && (r.state === 'crashed' || r.state === 'exited'))).toHaveLength(1);
    follower.kill('SIGINT');
    await client.call('workloads.delete', { id, force: true });
    close();
  });
});
