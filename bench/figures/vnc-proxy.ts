import { spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import WebSocket from 'ws';
import { startChild, wrap, type Child } from '../lib/children.js';
import { median, percentile, sleep, treeCpuSeconds } from '../lib/measure.js';
import { entry, type Entry } from '../lib/report.js';
import type { BenchContext } from '../lib/context.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** A byte stream from the TCP source, through one of the contenders. */
interface Contender {
  name: string;
  /** The process doing the proxying, whose CPU time is charged to it (none for raw TCP). */
  pid?: number;
  bulk(): Promise<Stream>;
  echo(): Promise<Stream>;
}

interface Stream {
  onData(fn: (bytes: number, data: Buffer) => void): void;
  send(b: Buffer): void;
  close(): void;
}

function tcpStream(port: number): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect({ host: '127.0.0.1', port, noDelay: true });
    s.once('error', reject);
    s.once('connect', () =>
      resolve({
        onData: (fn) => s.on('data', (d: Buffer) => fn(d.length, d)),
        send: (b) => s.write(b),
        close: () => s.destroy(),
      }),
    );
  });
}

function wsStream(url: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    // What noVNC asks for: the 'binary' subprotocol, no compression.
    const ws = new WebSocket(url, ['binary'], { perMessageDeflate: false, maxPayload: 256 * MiB });
    ws.binaryType = 'nodebuffer';
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        onData: (fn) => ws.on('message', (d: Buffer) => fn(d.length, d)),
        send: (b) => ws.send(b, { binary: true }),
        close: () => ws.terminate(),
      }),
    );
  });
}

/**
 * Bytes per second through the contender, and its CPU seconds per GiB moved; also those
 * of the source and of this process (the client), since the three share the machine's
 * cores and the sum per GiB is what bounds throughput when they are all busy.
 */
async function bulk(c: Contender, bytes: number, sourcePid: number): Promise<{ mibps: number; cpuPerGiB: number; sourcePerGiB: number; clientPerGiB: number }> {
  const s = await c.bulk();
  const cpu0 = c.pid ? treeCpuSeconds(c.pid) : 0;
  const src0 = treeCpuSeconds(sourcePid);
  const me0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    let got = 0;
    s.onData((n) => {
      got += n;
      if (got >= bytes) resolve();
    });
  });
  const secs = (performance.now() - t0) / 1000;
  const me = process.cpuUsage(me0);
  const src = treeCpuSeconds(sourcePid) - src0;
  s.close();
  await sleep(300); // a forked websockify child is reaped, so its CPU lands in its parent's
  const cpu = c.pid ? treeCpuSeconds(c.pid) - cpu0 : 0;
  const gib = bytes / GiB;
  return { mibps: bytes / MiB / secs, cpuPerGiB: cpu / gib, sourcePerGiB: src / gib, clientPerGiB: (me.user + me.system) / 1e6 / gib };
}

/** A 64-byte message there and back, in microseconds. */
async function echoer(c: Contender): Promise<{ trip(): Promise<number>; close(): void }> {
  const s = await c.echo();
  const msg = Buffer.alloc(64, 7);
  let got = 0;
  let next: (() => void) | undefined;
  s.onData((bytes) => {
    got += bytes;
    if (got >= 64) {
      got -= 64;
      next?.();
    }
  });
  return {
    trip: async () => {
      const t0 = process.hrtime.bigint();
      await new Promise<void>((resolve) => {
        next = resolve;
        s.send(msg);
      });
      return Number(process.hrtime.bigint() - t0) / 1000;
    },
    close: () => s.close(),
  };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function websockify(target: number): Promise<{ url: string; child: Child }> {
  const port = await freePort();
  const proc = spawn('websockify', [`127.0.0.1:${port}`, `127.0.0.1:${target}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  const child = wrap(proc);
  for (let i = 0; i < 100; i++) {
    if (await tcpStream(port).then((s) => (s.close(), true), () => false)) return { url: `ws://127.0.0.1:${port}/`, child };
    await sleep(50);
  }
  throw new Error('websockify did not start');
}

/**
 * Figure 3: the VNC WebSocket proxy (electron/core/services/console-proxy.ts, alone in a
 * process as the desktop app runs it) against Debian's websockify proxying the same TCP
 * source, and against raw TCP (no proxy) as the limit. Throughput and CPU per GiB from a
 * bulk stream; latency from 64-byte round trips through an echo service.
 */
export async function vncProxy(ctx: BenchContext): Promise<Entry[]> {
  const bytes = ctx.quick ? 64 * MiB : 256 * MiB;
  const trips = ctx.quick ? 300 : 5000;
  const reps = ctx.quick ? 1 : 8;
  const source = startChild(ctx.root, 'tcp-source');
  const ports = JSON.parse(await source.line()) as { bulk: number; echo: number };
  const ours = startChild(ctx.root, 'console-proxy');
  await ours.line();
  const wsBulk = await websockify(ports.bulk);
  const wsEcho = await websockify(ports.echo);
  const ticket = async (port: number) => {
    ours.send(String(port));
    return ours.line();
  };
  const contenders: Contender[] = [
    { name: 'NovaCron proxy', pid: ours.child.pid!, bulk: async () => wsStream(await ticket(ports.bulk)), echo: async () => wsStream(await ticket(ports.echo)) },
    // Two websockify processes (one per target); each is measured while it alone works.
    { name: 'websockify', pid: wsBulk.child.child.pid!, bulk: () => wsStream(wsBulk.url), echo: () => wsStream(wsEcho.url) },
    { name: 'raw TCP', bulk: () => tcpStream(ports.bulk), echo: () => tcpStream(ports.echo) },
  ];
  const thr = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const client = new Map<string, number[]>();
  const src: number[] = [];
  const rtt = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  try {
    // Short runs, the contenders taking turns: the load of this shared machine drifts.
    for (let r = 0; r < reps; r++) {
      for (let k = 0; k < contenders.length; k++) {
        const c = contenders[(k + r) % contenders.length]!;
        const b = await bulk(c, bytes, source.child.pid!);
        ctx.log(`${c.name}: ${b.mibps.toFixed(0)} MiB/s, ${b.cpuPerGiB.toFixed(2)} CPU-s/GiB`);
        thr.set(c.name, [...(thr.get(c.name) ?? []), b.mibps]);
        cpu.set(c.name, [...(cpu.get(c.name) ?? []), b.cpuPerGiB]);
        client.set(c.name, [...(client.get(c.name) ?? []), b.clientPerGiB]);
        src.push(b.sourcePerGiB);
      }
    }
    // Round trips one at a time, each contender in turn, after a warm-up.
    const echoes = await Promise.all(contenders.map((c) => echoer(c)));
    for (let i = 0; i < trips + 100; i++) {
      for (const [k, e] of echoes.entries()) {
        const us = await e.trip();
        if (i >= 100) rtt.get(contenders[k]!.name)!.push(us);
      }
    }
    echoes.forEach((e) => e.close());
  } finally {
    await Promise.all([source.stop(), ours.stop(), wsBulk.child.stop(), wsEcho.child.stop()]);
  }
  const t = (n: string) => median(thr.get(n)!);
  const p50 = (n: string) => percentile(rtt.get(n)!, 50);
  const p99 = (n: string) => percentile(rtt.get(n)!, 99);
  const per = (n: string) => median(cpu.get(n)!).toFixed(2);
  const cli = (n: string) => median(client.get(n)!).toFixed(2);
  // When the cores are the limit, throughput goes as 1 / (CPU-s per GiB of every process on
  // the path): raw TCP has no proxy and a client that parses no frames, so this is about
  // the most its ratio can be, whatever the proxy does short of costing nothing.
  const cpuBound = (median(src) + median(client.get('raw TCP')!)) / (median(src) + median(cpu.get('NovaCron proxy')!) + median(client.get('NovaCron proxy')!));
  const budget = `CPU-s/GiB while streaming: source ${median(src).toFixed(2)}; proxy ${per('NovaCron proxy')} (websockify ${per('websockify')}); client ${cli('NovaCron proxy')} (via websockify ${cli('websockify')}, raw TCP ${cli('raw TCP')}); so, CPU-bound, at most ${cpuBound.toFixed(2)}× raw TCP`;
  const note = `raw TCP p50 ${p50('raw TCP').toFixed(0)} µs; p99 round trip: NovaCron ${p99('NovaCron proxy').toFixed(0)} µs, websockify ${p99('websockify').toFixed(0)} µs, raw TCP ${p99('raw TCP').toFixed(0)} µs`;
  return [
    entry('VNC proxy throughput vs websockify', 'MiB/s', t('NovaCron proxy'), t('websockify'), 'websockify', { ratioMin: 1.5 }),
    entry('VNC proxy throughput vs raw TCP', 'MiB/s', t('NovaCron proxy'), t('raw TCP'), 'raw TCP (no proxy)', { ratioMin: 0.7 }, budget),
    entry('VNC proxy 64-byte round trip p50', 'µs', p50('NovaCron proxy'), p50('websockify'), 'websockify', { ratioMax: 0.8 }, note),
    entry('VNC proxy CPU per GiB', 'CPU-s/GiB', median(cpu.get('NovaCron proxy')!), median(cpu.get('websockify')!), 'websockify', { ratioMax: 1 }),
  ];
}
