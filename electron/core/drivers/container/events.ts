import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { workloadId } from '../../../../shared/ids.js';
import { toDisposable, type Disposable } from '../../base/lifecycle.js';
import type { WorkloadChange } from '../driver.js';
import { EventChains } from '../common/own-ops.js';
import type { Engine } from './engine.js';
import type { ImageDefaults } from './image-defaults.js';
import { D, engineError } from './errors.js';
import { localIdOf } from './labels.js';
import { infoOf } from './state.js';

/** The container actions that change what the inventory shows. */
const STATE_ACTIONS = new Set(['create', 'start', 'restart', 'die', 'kill', 'stop', 'pause', 'unpause', 'oom', 'rename', 'update', 'destroy']);

interface EngineEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  id?: string;
  status?: string;
}

/** Retries once the engine is gone: quick, and never more than 2 s apart, so it is seen again soon after it returns. */
const RETRY_MS = [500, 1000, 2000];

/**
 * The engine's event stream → workload changes: a crash, an OOM kill, a start from
 * `docker start` reach the UI without polling. When the engine goes away we say so once,
 * retry with a backoff, and say so again when it is back (then re-announce everything,
 * since events were missed meanwhile).
 */
export function watchEngine(
  engine: Engine,
  emit: (c: WorkloadChange) => void,
  opts: {
    label?: string;
    list: (signal: AbortSignal) => Promise<Dockerode.ContainerInspectInfo[]>;
    images?: ImageDefaults;
    /** This process's operation on a workload (local id), while one runs: its events are read once it ends. */
    busy?: (local: string) => Promise<void> | undefined;
  },
): Disposable {
  const ac = new AbortController();
  const where = engine.address.text;
  let stream: Readable | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  /** Engine container id → workload id, to name what was destroyed. */
  const ids = new Map<string, string>();
  /** Per container: its events in order. */
  const chains = new EventChains();

  const upsert = (c: Dockerode.ContainerInspectInfo) => {
    const info = infoOf(c, opts.label);
    ids.set(c.Id, info.id);
    emit({ type: 'upsert', info });
  };

  const onEvent = async (e: EngineEvent, id: string, action: string, shouldRead: () => Promise<boolean>) => {
    const attrs = e.Actor?.Attributes ?? {};
    const wid = ids.get(id) ?? workloadId(D, localIdOf({ Id: id, Labels: attrs }));
    if (action === 'destroy') {
      ids.delete(id);
      emit({ type: 'removed', id: wid });
      return;
    }
    if (action === 'oom') {
      emit({ type: 'notice', level: 'error', message: `container '${attrs.name ?? id.slice(0, 12)}' ran out of memory: the kernel killed a process in it (OOM)`, workloadId: wid });
    }
    // The engine sends an operation's events before its answer. Those that come while an operation
    // of this process runs on the container are read once it has ended, in one inspect for all of
    // them (the newest), rather than beside it: each inspect would contend with it in dockerd.
    if (!(await shouldRead())) return;
    try {
      upsert(await engine.docker.getContainer(id).inspect({ abortSignal: ac.signal } as object));
    } catch (err) {
      // Removed right after the event: the destroy event follows.
      if ((err as { statusCode?: number }).statusCode !== 404 && !ac.signal.aborted) throw err;
    }
  };

  const connect = async () => {
    if (ac.signal.aborted) return;
    try {
      // Image events too: they tell the image defaults a create answers from when to forget them.
      const s = (await engine.docker.getEvents({ filters: { type: ['container', 'image'] }, abortSignal: ac.signal } as object)) as Readable;
      stream = s;
      opts.images?.connected(where);
      if (failures > 0) {
        emit({ type: 'notice', level: 'info', message: `the Docker engine at ${where} answers again` });
        for (const c of await opts.list(ac.signal)) upsert(c);
      } else {
        for (const c of await opts.list(ac.signal)) ids.set(c.Id, infoOf(c, opts.label).id);
      }
      failures = 0;
      let buf = '';
      s.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        const parts = buf.split('\n');
        buf = parts.pop() ?? '';
        for (const line of parts) {
          if (!line.trim()) continue;
          const ev = JSON.parse(line) as EngineEvent;
          // At once, not in the chain behind inspects: a create right after a retag must not read the old defaults.
          if (ev.Type === 'image') opts.images?.changed(where, { action: ev.Action ?? ev.status ?? '', id: ev.Actor?.ID ?? ev.id, name: ev.Actor?.Attributes?.name });
          const action = (ev.Action ?? ev.status ?? '').split(':')[0]!;
          const id = ev.Actor?.ID ?? ev.id;
          if (ev.Type !== 'container' || !id || !STATE_ACTIONS.has(action)) continue;
          const local = localIdOf({ Id: id, Labels: ev.Actor?.Attributes ?? {} });
          chains.push(id, () => opts.busy?.(local), (shouldRead) => onEvent(ev, id, action, shouldRead));
        }
      });
      let over = false;
      const end = (err: unknown) => {
        if (over) return;
        over = true;
        lost(err);
      };
      s.once('close', () => end(new Error('the event stream closed')));
      s.once('error', (err) => end(err));
    } catch (err) {
      lost(err);
    }
  };

  const lost = (err: unknown) => {
    stream = undefined;
    opts.images?.lost(where);
    if (ac.signal.aborted) return;
    if (failures === 0) {
      emit({ type: 'notice', level: 'error', message: `the Docker engine at ${where} went away: ${engineError(err).message.replace(/^container: /, '')}` });
    }
    const wait = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)]!;
    failures++;
    timer = setTimeout(() => void connect(), wait);
    timer.unref();
  };

  void connect();
  return toDisposable(() => {
    opts.images?.lost(where);
    ac.abort();
    if (timer) clearTimeout(timer);
    stream?.destroy();
  });
}
