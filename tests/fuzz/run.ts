import fc from 'fast-check';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METHOD_NAMES, STREAM_NAMES, methods, streams } from '../../shared/contract/index.js';
import type { NovaClient } from '../../shared/contract/client.js';
import { ERROR_CODES } from '../../shared/errors.js';
import { main as cliMain } from '../../electron/cli/main.js';
import { Core } from '../../electron/core/core.js';
import type { Origin } from '../../electron/core/drivers/driver.js';
import { inprocClient } from '../../electron/core/transport/inproc.js';
import { BIN } from '../helpers/cli.js';
import { purge } from '../helpers/core.js';
import { removeNamespace } from '../helpers/containerd.js';
import { docker } from '../helpers/docker.js';
import { bootSectorImage, bootSectorWhy } from '../helpers/guests.js';
import { tempHome } from '../helpers/home.js';
import { qemuWhy } from '../helpers/qemu.js';
import { allFlags, cliCaseArb } from './cli-cases.js';
import { hostileStrings, sentinelPaths } from './hostile.js';
import { installGuards } from './guards.js';
import { shaped } from './shaped.js';

export interface FuzzFigures {
  cases: number;
  accepted: number;
  rejectedInvalid: number;
  otherErrors: Record<string, number>;
  /** An exception escaped, or an INTERNAL error: a bug either way. */
  crashes: string[];
  writesOutside: string[];
  shellSpawns: string[];
  sentinelsFound: string[];
  perMethod: Record<string, number>;
  perStream: Record<string, number>;
  cliFlagsTried: string[];
  cliFlagsMissed: string[];
}

/** Safe values for the few fields where a valid value could run something: only harmless programs. */
const safeLeaf = (path: string) => {
  if (path === 'cmd') return fc.constantFrom('sleep', '/bin/sleep', 'true');
  if (path === 'args' || path === 'args[]') return fc.constantFrom(['300'], ['1']);
  if (path === 'command' || path === 'command[]') return fc.constantFrom(['true'], ['sleep', '1']);
  return undefined;
};

/** The page's two doors: the desktop window and a browser on the headless server. Their input is what is fuzzed. */
const PAGE_ORIGINS: Origin[] = ['headless', 'desktop'];
const CHUNK = 250;

/**
 * Fuzz every contract method and stream through the router as the page would call them,
 * and the CLI's commands and flags (every driver's create flags among them) in-process,
 * with hostile input; then report what was tried and what leaked. A few CLI commands that
 * serve or attach to a TTY run as real child processes.
 */
export async function fuzzContract(opts: { contractCases: number; cliCases: number; childCases: number; seed?: number }): Promise<FuzzFigures> {
  const tag = randomBytes(3).toString('hex');
  const t = tempHome('nc-fuzz-');
  const env = { ...t.env, NOVACRON_NODE_ID: `nc-fuzz-${tag}`, NOVACRON_CONTAINERD_NAMESPACE: `nc-test-fuzz-${tag}` };
  const core = await Core.open({ env });
  const client = inprocClient(core.router, 'test');
  // A writable dir outside the data dir, and links in the data dir pointing out: nothing may land in either.
  const outside = mkdtempSync(join(tmpdir(), 'nc-fuzz-out-'));
  symlinkSync('/etc', `${t.home}/escape`);
  symlinkSync(outside, `${t.home}/escape-tmp`);
  mkdirSync(`${t.home}/processes`, { recursive: true });
  const vmImage = qemuWhy() ?? bootSectorWhy() ? undefined : bootSectorImage();
  const figures: FuzzFigures = {
    cases: 0,
    accepted: 0,
    rejectedInvalid: 0,
    otherErrors: {},
    crashes: [],
    writesOutside: [],
    shellSpawns: [],
    sentinelsFound: [],
    perMethod: Object.fromEntries(METHOD_NAMES.map((m) => [m, 0])),
    perStream: Object.fromEntries(STREAM_NAMES.map((s) => [s, 0])),
    cliFlagsTried: [],
    cliFlagsMissed: [],
  };
  const count = (code: string) => {
    if (code === 'INVALID_ARGUMENT') figures.rejectedInvalid++;
    else figures.otherErrors[code] = (figures.otherErrors[code] ?? 0) + 1;
  };
  const paths = [`${t.home}/escape/${'x'}`, `${t.home}/escape-tmp`, `${t.home}/escape-tmp/nc-fuzz.tar.gz`, outside, `${outside}/x`, `${t.home}/diagnostics`, `${t.home}/bundle.tar.gz`];
  const stringsNow = async () => [...hostileStrings(t.home, `${t.home}/escape`), ...paths, ...(await seeds(client, vmImage))];
  const guard = installGuards([t.home, '/sys/fs/cgroup/memory/novacron', '/sys/fs/cgroup/cpu/novacron', '/sys/fs/cgroup/cpuacct/novacron', '/sys/fs/cgroup/novacron']);
  let seed = opts.seed ?? Date.now() % 2 ** 31;

  try {
    // The contract, as the page calls it: chunks, so seeds a case deleted come back for the next ones.
    for (let done = 0; done < opts.contractCases; done += CHUNK) {
      const strings = await stringsNow();
      const arb = fc.constantFrom(...METHOD_NAMES).chain((m) =>
        fc.tuple(fc.constant(m), fc.oneof({ weight: 4, arbitrary: shaped(methods[m].input, strings, safeLeaf) }, { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) })),
      );
      for (const [m, input] of fc.sample(arb, { numRuns: Math.min(CHUNK, opts.contractCases - done), seed: seed++ })) {
        figures.cases++;
        figures.perMethod[m]!++;
        try {
          const r = await withTimeout(core.router.call(m, input, { origin: PAGE_ORIGINS[figures.cases % 2]!, client: 'fuzz' }), 60_000, m);
          if (r.ok) figures.accepted++;
          else {
            if (!(ERROR_CODES as readonly string[]).includes(r.error.code)) figures.crashes.push(`${m}: unknown code ${r.error.code}`);
            if (r.error.code === 'INTERNAL') figures.crashes.push(`${m}(${preview(input)}): INTERNAL ${r.error.message}`);
            count(r.error.code);
          }
        } catch (e) {
          figures.crashes.push(`${m}(${preview(input)}): threw ${(e as Error).message}`);
        }
      }
    }

    const strings = await stringsNow();
    const streamArb = fc.constantFrom(...STREAM_NAMES).chain((s) => fc.tuple(fc.constant(s), shaped(streams[s].input, strings, safeLeaf)));
    for (const [s, input] of fc.sample(streamArb, { numRuns: Math.ceil(opts.contractCases / 10), seed: seed++ })) {
      figures.cases++;
      figures.perStream[s]!++;
      try {
        let code: string | undefined;
        const d = core.router.subscribe(s, input, { event: () => undefined, error: (e) => (code = e.code) }, { origin: 'headless', client: 'fuzz' });
        await new Promise((r) => setTimeout(r, 5));
        d.dispose();
        if (code === 'INTERNAL') figures.crashes.push(`stream ${s}(${preview(input)}): INTERNAL`);
        if (code) count(code);
        else figures.accepted++;
      } catch (e) {
        figures.crashes.push(`stream ${s}: threw ${(e as Error).message}`);
      }
    }

    await fuzzCli(opts, env, await stringsNow(), figures, seed++);
  } finally {
    guard.restore();
    await purge(client, t.home);
    await cleanupEngines(env);
    core.dispose();
  }
  figures.writesOutside = [...new Set(guard.writesOutside)];
  for (const f of readdirSync(outside)) figures.writesOutside.push(`${outside}/${f}`);
  figures.shellSpawns = guard.shellSpawns;
  figures.sentinelsFound = sentinelPaths(t.home).filter((p) => existsSync(p));
  const tried = new Set(figures.cliFlagsTried);
  figures.cliFlagsMissed = allFlags().filter((f) => !tried.has(f));
  rmSync(outside, { recursive: true, force: true });
  t.cleanup();
  return figures;
}

/**
 * The CLI, in-process (a spawn per case would take an hour): its parser, its flags and
 * its errors. The CLI is the admin, so `config set kvm.vm_base_path /tmp/x` is honoured;
 * each case therefore starts from the same config file, or one case's setting would
 * steer where the next one writes.
 */
async function fuzzCli(opts: { cliCases: number; childCases: number }, env: NodeJS.ProcessEnv, strings: string[], figures: FuzzFigures, seed: number) {
  const configFile = env.NOVACRON_CONFIG!;
  const config = existsSync(configFile) ? readFileSync(configFile, 'utf8') : undefined;
  const restoreConfig = () => (config === undefined ? rmSync(configFile, { force: true }) : writeFileSync(configFile, config));
  const saved = Object.fromEntries(['NOVACRON_HOME', 'NOVACRON_CONFIG', 'NOVACRON_NODE_ID', 'NOVACRON_CONTAINERD_NAMESPACE'].map((k) => [k, process.env[k]]));
  for (const k of Object.keys(saved)) process.env[k] = env[k];
  let stderr = '';
  const silent = { out: () => undefined, err: (l: string) => void (stderr += `${l}\n`) };
  const workloads = strings.filter((s) => /^(process|kvm):[0-9a-f]{12}$/.test(s) || /^fz-/.test(s));
  const tried = new Set<string>();
  try {
    const cases = fc.sample(cliCaseArb(strings, workloads), { numRuns: opts.cliCases * 2, seed });
    const inProc = cases.filter((c) => !c.child).slice(0, opts.cliCases);
    // An OS argv cannot carry NUL: such cases only exist in-process.
    const child = cases.filter((c) => c.child && !c.argv.some((a) => a.includes('\u0000'))).slice(0, opts.childCases);
    for (const c of inProc) {
      restoreConfig();
      figures.cases++;
      c.flags.forEach((f) => tried.add(f));
      stderr = '';
      try {
        const code = await withTimeout(cliMain(c.argv, silent), 60_000, c.argv.join(' '));
        classify(figures, c.argv, code, stderr);
      } catch (e) {
        figures.crashes.push(`cli ${preview(c.argv)}: threw ${(e as Error).message}`);
      }
    }
    // serve and terminal: real processes, stopped after a moment (serving is their success).
    for (const c of child) {
      restoreConfig();
      figures.cases++;
      c.flags.forEach((f) => tried.add(f));
      const r = await runChild(c.argv, env);
      classify(figures, c.argv, r.code === 'running' ? 0 : r.code, r.stderr);
    }
  } finally {
    restoreConfig();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  figures.cliFlagsTried = [...tried];
}

function classify(figures: FuzzFigures, argv: string[], code: number, stderr: string): void {
  if (![0, 1, 2, 3, 4, 5, 6, 130].includes(code)) figures.crashes.push(`cli ${preview(argv)}: exit ${code}: ${stderr.slice(0, 300)}`);
  else if (/novacron: INTERNAL:|Error: |at .*\(.*:\d+:\d+\)/.test(stderr)) figures.crashes.push(`cli ${preview(argv)}: ${stderr.slice(0, 300)}`);
  else if (code === 2) figures.rejectedInvalid++;
  else if (code === 0) figures.accepted++;
  else figures.otherErrors[`cli exit ${code}`] = (figures.otherErrors[`cli exit ${code}`] ?? 0) + 1;
}

/** The real CLI for 1.5 s: its exit code, or 'running' (then stopped) when it was serving. */
function runChild(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | 'running'; stderr: string }> {
  return new Promise((resolve) => {
    let stderr = '';
    const child = execFile(process.execPath, [BIN, ...argv], { env: { ...env, NOVACRON_TOKEN: '' }, timeout: 30_000 }, () => undefined);
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdin?.end();
    const running = () => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      resolve({ code: 'running', stderr });
    };
    const timer = setTimeout(running, 1_500);
    // serve says where it serves once it listens: that is its success.
    child.stdout?.on('data', (b: Buffer) => b.toString().includes('Open: ') && running());
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stderr });
    });
  });
}

/** The workloads every chunk may act on: two processes (one running) and, where QEMU works, a VM. Made again when a case deleted one. */
async function seeds(client: NovaClient, vmImage: string | undefined): Promise<string[]> {
  const { workloads } = await client.call('workloads.list', {});
  const out: string[] = [];
  const want: { name: string; spec: Record<string, unknown>; start?: boolean }[] = [
    { name: 'fz-a', spec: { driver: 'process', cmd: 'sleep', args: ['300'] }, start: true },
    { name: 'fz-b', spec: { driver: 'process', cmd: 'sleep', args: ['300'] } },
    ...(vmImage ? [{ name: 'fz-vm', spec: { driver: 'kvm', memoryMB: 32, disks: [{ base: vmImage }], accel: 'tcg' } }] : []),
  ];
  for (const w of want) {
    let id = workloads.find((x) => x.name === w.name)?.id;
    if (!id) {
      id = (await client.call('workloads.create', { ...w.spec, name: w.name } as never)).id;
      if (w.start) await client.call('workloads.start', { id }).catch(() => undefined);
    }
    out.push(id, w.name);
  }
  return out;
}

/** Anything a case made on a shared engine goes (the fuzzer's containers carry its node id; its containerd namespace is its own). */
async function cleanupEngines(env: NodeJS.ProcessEnv): Promise<void> {
  const d = docker();
  const mine = await d.listContainers({ all: true, filters: { label: [`io.novacron.node=${env.NOVACRON_NODE_ID}`] } }).catch(() => []);
  for (const c of mine) await d.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  try {
    removeNamespace(env.NOVACRON_CONTAINERD_NAMESPACE!);
  } catch {
    // containerd absent: nothing was made there
  }
}

const preview = (v: unknown) => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 160 ? `${s.slice(0, 160)}…` : s;
};

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const h = setTimeout(() => reject(new Error(`hung for ${ms} ms: ${what}`)), ms);
    p.then(
      (v) => {
        clearTimeout(h);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(h);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
