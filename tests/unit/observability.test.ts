import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventRecord } from '../../shared/observability.js';
import type { WorkloadInfo, WorkloadState } from '../../shared/model.js';
import { describeEvent, matchesFilter } from '../../shared/observability.js';
import { sinceFlag } from '../../electron/cli/commands/events.js';
import { tarGz } from '../../electron/core/observability/diag/tar.js';
import { JsonlAppender, readLinesBackward, tailLines } from '../../electron/core/observability/jsonl.js';
import { render } from '../../electron/core/observability/prometheus/format.js';
import { parseListen, readScrapeToken } from '../../electron/core/observability/prometheus/endpoint.js';
import { OpStats } from '../../electron/core/observability/prometheus/op-stats.js';
import { redactUrlPassword, redactValues, Secrets } from '../../electron/core/observability/secrets.js';
import { EventLog } from '../../electron/core/observability/event-log.js';
import { Recorder } from '../../electron/core/observability/recorder.js';
import type { Logger } from '../../electron/core/observability/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'nc-obs-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the Prometheus text format', () => {
  it('escapes label values and renders cumulative histograms', () => {
    const text = render([
      { name: 'x_total', type: 'counter', help: 'a\nb', samples: [{ labels: { name: 'a"b\\c\nd' }, value: 3 }] },
      { name: 'd_seconds', type: 'histogram', help: 'h', buckets: [0.1, 1], series: [{ labels: { op: 'o' }, counts: [2, 1], sum: 1.5, count: 4 }] },
      { name: 'g', type: 'gauge', help: 'g', samples: [{ labels: {}, value: NaN }] },
    ]);
    expect(text).toBe(
      [
        '# HELP x_total a\\nb',
        '# TYPE x_total counter',
        'x_total{name="a\\"b\\\\c\\nd"} 3',
        '# HELP d_seconds h',
        '# TYPE d_seconds histogram',
        'd_seconds_bucket{op="o",le="0.1"} 2',
        'd_seconds_bucket{op="o",le="1"} 3',
        'd_seconds_bucket{op="o",le="+Inf"} 4',
        'd_seconds_sum{op="o"} 1.5',
        'd_seconds_count{op="o"} 4',
        '# HELP g g',
        '# TYPE g gauge',
        'g NaN',
        '',
      ].join('\n'),
    );
  });

  it('counts operations per driver, operation and result', () => {
    const ops = new OpStats(undefined as unknown as EventLog);
    const base = { ts: '', id: '', host: 'h', pid: 1, kind: 'operation', origin: 'cli', op: 'o', driver: 'process' } as const;
    ops.add({ ...base, method: 'workloads.start', result: 'ok', durationMs: 20 });
    ops.add({ ...base, method: 'workloads.start', result: 'error', error: { code: 'CONFLICT', message: 'm' }, durationMs: 3 });
    ops.add({ ...base, kind: 'state', state: 'crashed' } as unknown as EventRecord);
    const text = render(ops.families());
    expect(text).toContain('novacron_operations_total{driver="process",operation="workloads.start",result="ok"} 1');
    expect(text).toContain('novacron_operations_total{driver="process",operation="workloads.start",result="CONFLICT"} 1');
    expect(text).toContain('novacron_operation_duration_seconds_bucket{driver="process",operation="workloads.start",le="0.005"} 1');
    expect(text).toContain('novacron_operation_duration_seconds_bucket{driver="process",operation="workloads.start",le="0.025"} 2');
    expect(text).toContain('novacron_operation_duration_seconds_count{driver="process",operation="workloads.start"} 2');
  });

  it('reads a scrape token file, and warns when others may read it', async () => {
    const f = join(dir, 'scrape.token');
    writeFileSync(f, '  0123456789abcdef0123\n', { mode: 0o644 });
    const r = await readScrapeToken(f);
    expect(r.token).toBe('0123456789abcdef0123');
    expect(r.warning).toMatch(/can be read by other users \(mode 644\); chmod 600 it/);
    execFileSync('chmod', ['600', f]);
    expect((await readScrapeToken(f)).warning).toBeUndefined();
  });

  it('parses --metrics-listen', () => {
    expect(parseListen('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen('localhost:1')).toEqual({ host: 'localhost', port: 1 });
    for (const bad of ['', ':9464', '127.0.0.1', '127.0.0.1:', 'a b:1', '::1:9464', 'host:-1']) {
      expect(() => parseListen(bad), bad).toThrow(/--metrics-listen: must be HOST:PORT/);
    }
  });
});

describe('secrets', () => {
  it('scrubs known secrets from any text, encoded or not', () => {
    const s = new Secrets();
    s.add('abc'); // too short to be a token: ignored
    s.add('tok/en+with=odd');
    expect(s.scrub('a tok/en+with=odd b tok%2Fen%2Bwith%3Dodd abc')).toBe('a [redacted] b [redacted] abc');
  });

  it('redacts secret-looking keys and URL passwords', () => {
    expect(redactUrlPassword('tcp://u:pw@h:1/x')).toBe('tcp://u:[redacted]@h:1/x');
    expect(redactUrlPassword('unix:///var/run/docker.sock')).toBe('unix:///var/run/docker.sock');
    expect(redactValues({ NOVACRON_TOKEN: 't', api_key: 'k', password: '', nested: { Secret: 's', url: 'https://a:b@c' }, n: 1 })).toEqual({
      NOVACRON_TOKEN: '[redacted]',
      api_key: '[redacted]',
      password: '',
      nested: { Secret: '[redacted]', url: 'https://a:[redacted]@c' },
      n: 1,
    });
  });
});

describe('the rotating JSON-lines appender', () => {
  it('rotates by size, keeps N files, and reads newest first across them', async () => {
    const file = { path: join(dir, 'rot', 'x.jsonl'), maxBytes: 1000, keep: 2 };
    const a = new JsonlAppender(file, (l) => l.replace('SECRET', '[redacted]'));
    for (let i = 0; i < 100; i++) a.append(JSON.stringify({ i, pad: 'p'.repeat(40), s: 'SECRET' }));
    a.dispose();
    const names = readdirSync(join(dir, 'rot')).sort();
    expect(names).toEqual(['x.jsonl', 'x.jsonl.1', 'x.jsonl.2']);
    for (const n of names) expect(readFileSync(join(dir, 'rot', n)).length).toBeLessThan(1100);
    const seen: number[] = [];
    for await (const line of readLinesBackward(file)) seen.push((JSON.parse(line) as { i: number }).i);
    expect(seen[0]).toBe(99);
    expect(seen).toEqual([...seen].sort((x, y) => y - x));
    expect(seen.length).toBeGreaterThan(20);
    expect(readFileSync(join(dir, 'rot', 'x.jsonl'), 'utf8')).not.toContain('SECRET');
  });

  it('reads lines with multi-byte characters across chunk edges', async () => {
    const file = { path: join(dir, 'mb.jsonl'), maxBytes: 1 << 30, keep: 1 };
    const a = new JsonlAppender(file);
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ i, s: 'é✓𝄞'.repeat(i % 17) }));
    for (const l of lines) a.append(l);
    a.dispose();
    const back: string[] = [];
    for await (const l of readLinesBackward(file)) back.push(l);
    expect(back.reverse()).toEqual(lines);
    // The tail, read backwards 8 KiB first, then the rest: the whole lines of the window, newest first, the one it cuts dropped.
    const whole = readFileSync(file.path);
    for (const bytes of [100, 8 * 1024, 8 * 1024 + 1, 20_000, 64 * 1024, 1 << 30]) {
      const window = whole.subarray(Math.max(0, whole.length - bytes)).toString('utf8').split('\n').filter(Boolean);
      if (bytes < whole.length) window.shift();
      expect([...tailLines(file.path, bytes)], `${bytes} bytes`).toEqual(window.reverse());
    }
    const [newest, next] = tailLines(file.path, 64 * 1024);
    expect([newest, next]).toEqual([lines.at(-1), lines.at(-2)]);
    expect([...tailLines(join(dir, 'none.jsonl'), 1024)]).toEqual([]);
  });
});

describe('the recorder', () => {
  it('writes the audit record before the answer and the log line after it (or on flush)', async () => {
    const events = new EventLog(join(dir, 'rec-state'), () => 'h', (l) => l);
    const lines: string[] = [];
    const log = Object.fromEntries(['info', 'warn', 'debug', 'error'].map((lvl) => [lvl, (_f: unknown, msg: string) => lines.push(`${lvl} ${msg}`)])) as unknown as Logger;
    const rec = new Recorder(events, log);
    const call = (method: 'workloads.pause' | 'workloads.list', ok: boolean) =>
      rec.onCall({ method, input: { id: 'process:000000000001' }, meta: { origin: 'cli', op: 'o' }, durationMs: 1, result: ok ? { ok: true, value: {} } : { ok: false, error: { code: 'CONFLICT', message: 'busy' } } });
    call('workloads.pause', true);
    call('workloads.list', true);
    // The audit is in the file when onCall returns (the router answers right after); the log line is not yet.
    const audit = readFileSync(join(dir, 'rec-state', 'events.jsonl'), 'utf8').trim().split('\n');
    expect(audit.map((l) => (JSON.parse(l) as { method: string; result: string }).method)).toEqual(['workloads.pause']);
    expect(lines).toEqual([]);
    await new Promise((r) => setImmediate(r)); // the turn the WebSocket sends its answers in
    expect(lines).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual(['info operation done', 'debug call']);
    call('workloads.pause', false);
    rec.flushLog(); // dispose: a CLI about to exit
    expect(lines.at(-1)).toBe('warn operation failed');
    await new Promise((r) => setImmediate(() => setImmediate(r)));
    expect(lines).toHaveLength(3);
    events.dispose();
  });
});

describe('what the watchers saw, beside our own operations', () => {
  const silent = Object.fromEntries(['info', 'warn', 'debug', 'error'].map((lvl) => [lvl, () => undefined])) as unknown as Logger;
  const info = (id: string, state: WorkloadState) => ({ type: 'upsert' as const, info: { id, name: 'w', driver: 'process', state } as WorkloadInfo });
  // The hold's timers on a fake clock: a loaded CI host can delay a real 100 ms timer past any wait a test would make.
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }));
  afterEach(() => vi.useRealTimers());
  const pause = (ms: number) => vi.advanceTimersByTime(ms);
  let n = 0;
  const setup = () => {
    const state = join(dir, `hold-${++n}`);
    mkdirSync(state); // as Observability makes it
    const events = new EventLog(state, () => 'h', (l) => l);
    const rec = new Recorder(events, silent);
    const id = `process:00000000000${n}`;
    const op = (method: 'workloads.stop' | 'workloads.restart' | 'workloads.start', st: WorkloadState) => {
      const input = { id };
      rec.onBegin(method, input);
      return () => rec.onCall({ method, input, meta: { origin: 'headless', op: 'o' }, durationMs: 1, result: { ok: true, value: { id, name: 'w', driver: 'process', state: st } } });
    };
    const written = () =>
      readFileSync(join(state, 'events.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as EventRecord)
        .map((r) => (r.kind === 'operation' ? `${r.method} ${r.state}` : r.kind === 'state' ? `seen ${r.state}` : `notice ${r.message}`));
    return { events, rec, id, op, written };
  };

  it('writes one record for a stop whose effect a watcher saw before the stop returned', () => {
    const { events, rec, id, op, written } = setup();
    const done = op('workloads.stop', 'stopped');
    rec.onObserved('process', info(id, 'stopped')); // the watcher listed while the stop waited for the exit
    pause(250);
    expect(existsSync(events.file.path)).toBe(false); // held while the stop runs, past the grace
    done();
    pause(250);
    expect(written()).toEqual(['workloads.stop stopped']);
    events.dispose();
  });

  it('keeps only the last state a watcher saw during an operation, and writes what differs from its record', () => {
    const { events, rec, id, op, written } = setup();
    const done = op('workloads.restart', 'running');
    rec.onObserved('process', info(id, 'stopped'));
    rec.onObserved('process', info(id, 'crashed')); // crashed again at once: not what the restart says
    done();
    pause(250);
    expect(written()).toEqual(['workloads.restart running', 'seen crashed']);
    events.dispose();
  });

  it('lets another process record its operation first, and writes before an operation what was seen before it began', () => {
    const { events, rec, id, op, written } = setup();
    rec.onObserved('process', info(id, 'running')); // the CLI's start, seen by this process's watcher…
    const cli = new EventLog(join(events.file.path, '..'), () => 'h', (l) => l);
    cli.append({ kind: 'operation', origin: 'cli', method: 'workloads.start', op: 'c', result: 'ok', durationMs: 3, workloadId: id, state: 'running' }); // …whose record lands just after
    cli.dispose();
    pause(250);
    expect(written()).toEqual(['workloads.start running']);
    rec.onObserved('process', info(id, 'crashed'));
    rec.onObserved('process', { type: 'notice', level: 'error', message: 'it crashed', workloadId: id });
    const done = op('workloads.start', 'running'); // the crash came first: it is written first
    rec.onObserved('process', info(id, 'running'));
    done();
    pause(250);
    expect(written()).toEqual(['workloads.start running', 'seen crashed', 'notice it crashed', 'workloads.start running']);
    rec.onObserved('process', info(id, 'exited'));
    rec.flushObserved(); // dispose: nothing held is lost
    expect(written().at(-1)).toBe('seen exited');
    events.dispose();
  });

  it('does not write after another process’s operation the state its workload was in before that operation began', () => {
    const { events, rec, id, written } = setup();
    const cli = new EventLog(join(events.file.path, '..'), () => 'h', (l) => l);
    cli.append({ kind: 'operation', origin: 'cli', method: 'workloads.create', op: 'c1', result: 'ok', durationMs: 9, workloadId: id, state: 'stopped' });
    pause(300); // the CLI's next command starts up meanwhile
    rec.onObserved('process', info(id, 'stopped')); // this process's watcher meets the new workload, as it was made…
    pause(70);
    // …and the CLI's start, begun after that, lands within the grace: the state seen is what it started from.
    cli.append({ kind: 'operation', origin: 'cli', method: 'workloads.start', op: 'c2', result: 'ok', durationMs: 29, workloadId: id, state: 'running' });
    pause(250);
    expect(written()).toEqual(['workloads.create stopped', 'workloads.start running']);
    // What is seen once the start had begun is news, written after it.
    rec.onObserved('process', info(id, 'crashed'));
    pause(250);
    expect(written()).toEqual(['workloads.create stopped', 'workloads.start running', 'seen crashed']);
    cli.dispose();
    events.dispose();
  });
});

describe('the diagnostics archive', () => {
  it('is a tar.gz the system tar reads back byte for byte', () => {
    const big = Buffer.alloc(70_000, 7);
    const archive = join(dir, 'a.tar.gz');
    writeFileSync(archive, tarGz([{ name: 'a.json', data: '{"x":1}' }, { name: 'sub/b.bin', data: big }, { name: 'empty.txt', data: '' }, { name: 'ü.txt', data: 'ünïcode' }]));
    const out = join(dir, 'untar');
    execFileSync('mkdir', ['-p', out]);
    execFileSync('tar', ['-xzf', archive, '-C', out]);
    expect(readFileSync(join(out, 'a.json'), 'utf8')).toBe('{"x":1}');
    expect(readFileSync(join(out, 'sub', 'b.bin')).equals(big)).toBe(true);
    expect(readFileSync(join(out, 'empty.txt'), 'utf8')).toBe('');
    expect(readFileSync(join(out, 'ü.txt'), 'utf8')).toBe('ünïcode');
    expect(() => tarGz([{ name: '../evil', data: '' }])).toThrow(/bad entry name/);
  });
});

describe('event filters', () => {
  const op: EventRecord = { ts: '2025-01-01T10:00:00.000Z', id: '1', host: 'h', pid: 1, kind: 'operation', origin: 'cli', method: 'workloads.stop', op: 'o', result: 'error', durationMs: 5, workloadId: 'process:ab', driver: 'process', name: 'web', error: { code: 'TIMEOUT', message: 'took too long' } };
  it('keeps what every filter allows', () => {
    expect(matchesFilter(op, { origin: 'cli', driver: 'process', result: 'error', kinds: ['operation'] })).toBe(true);
    expect(matchesFilter(op, { origin: 'headless' })).toBe(false);
    expect(matchesFilter(op, { text: 'TOO LONG' })).toBe(true);
    expect(matchesFilter(op, { text: 'nothing' })).toBe(false);
    expect(matchesFilter(op, { since: '2025-01-01T10:00:01Z' })).toBe(false);
    expect(matchesFilter(op, { until: '2025-01-01T10:00:01Z' })).toBe(true);
    expect(describeEvent(op)).toBe('cli workloads.stop web (process:ab) failed: TIMEOUT took too long (5 ms)');
  });
  it('reads --since as an age or a time', () => {
    expect(sinceFlag('10m', 'since', Date.parse('2025-01-01T10:00:00Z'))).toBe('2025-01-01T09:50:00.000Z');
    expect(sinceFlag('2025-01-01T10:00:00Z', 'since')).toBe('2025-01-01T10:00:00.000Z');
    expect(() => sinceFlag('yesterday', 'since')).toThrow(/--since: must be a time/);
  });
});
