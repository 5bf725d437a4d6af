import type { ExitInfo, WorkloadInfo, WorkloadState } from '../../../../shared/model.js';
import { workloadId } from '../../../../shared/ids.js';
import { driverError } from '../../base/errors.js';
import { parseDomain, type DomainFacts } from './domxml.js';
import { D, type Virsh } from './virsh.js';

/** One `key=value` block of `virsh domstats --raw` per domain name. */
export type Stats = Record<string, string>;

/** Parse `virsh domstats --raw`: "Domain: 'NAME'" then indented key=value lines. */
export function parseDomstats(text: string): Map<string, Stats> {
  const out = new Map<string, Stats>();
  let cur: Stats | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const head = /^Domain: '(.*)'$/.exec(line);
    if (head) {
      cur = {};
      out.set(head[1]!, cur);
      continue;
    }
    const eq = line.indexOf('=');
    if (cur && eq > 0) cur[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return out;
}

/** `virsh list --all --uuid --name`: "UUID NAME" per line (a name may hold spaces). */
export function parseUuidNames(text: string): { uuid: string; name: string }[] {
  return text
    .split('\n')
    .map((l) => /^([0-9a-f-]{36})\s+(.+)$/i.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ uuid: m[1]!.toLowerCase(), name: m[2]! }));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const isUuid = (s: string) => UUID.test(s);

/** virDomainShutoffReason, in the words the list shows. */
const SHUTOFF: Record<string, string> = {
  '1': 'shut down',
  '2': 'destroyed (forced off)',
  '3': 'crashed',
  '4': 'migrated away',
  '5': 'saved',
  '6': 'failed to start',
  '7': 'reverted to a powered-off snapshot',
  '8': 'daemon restarted',
};

/** libvirt's state and reason → ours. Every libvirt state maps somewhere; none is dropped. */
export function stateOf(s: Stats | undefined): { state: WorkloadState; exit?: ExitInfo } {
  const st = s?.['state.state'];
  const reason = s?.['state.reason'] ?? '0';
  switch (st) {
    case '1': // running
    case '2': // blocked on a resource: still running
    case '4': // being shut down
      return { state: 'running' };
    case '3': // paused
    case '7': // suspended by guest power management
      return { state: 'paused' };
    case '5': {
      const why = SHUTOFF[reason];
      if (reason === '3' || reason === '6') return { state: 'crashed', exit: { reason: why! } };
      return why ? { state: 'stopped', exit: { reason: why } } : { state: 'stopped' };
    }
    case '6':
      return { state: 'crashed', exit: { reason: reason === '1' ? 'the guest panicked' : 'QEMU crashed' } };
    default:
      return { state: 'unknown' };
  }
}

const FACTS_TTL_MS = 30_000;

/**
 * The domains of one connection, listed with two virsh calls whatever their number
 * (`list --uuid --name` for identities, `domstats --state --vcpu --balloon` for state and
 * size), plus each domain's XML read once and kept (type, disks, NovaCron's metadata):
 * it changes only when someone redefines the domain, so it is re-read after our own
 * changes and otherwise every 30 s.
 */
export class Domains {
  private readonly facts = new Map<string, { at: number; facts: Promise<DomainFacts> }>();
  /** Last known name of every uuid, for the bulk stats that libvirt keys by name. */
  readonly names = new Map<string, string>();

  constructor(readonly virsh: Virsh) {}

  async factsOf(uuid: string, signal?: AbortSignal, fresh = false): Promise<DomainFacts> {
    const hit = this.facts.get(uuid);
    if (hit && !fresh && Date.now() - hit.at < FACTS_TTL_MS) return hit.facts;
    const p = this.virsh.run(['dumpxml', uuid], signal ? { signal } : {}).then(parseDomain);
    this.facts.set(uuid, { at: Date.now(), facts: p });
    p.catch(() => this.facts.delete(uuid));
    const f = await p;
    this.names.set(uuid, f.name);
    return f;
  }

  forget(uuid: string): void {
    this.facts.delete(uuid);
  }

  /** The uuid of a local id, or NOT_FOUND: ids are libvirt's domain UUIDs. */
  check(local: string): string {
    const uuid = local.toLowerCase();
    if (!isUuid(uuid)) throw driverError(D, 'NOT_FOUND', `no domain '${local}' (a libvirt workload id is the domain's UUID)`);
    return uuid;
  }

  async list(outer?: AbortSignal): Promise<WorkloadInfo[]> {
    // Every driver's listing shares the caller's signal: ours takes one listener on it, not one per virsh call.
    const ac = new AbortController();
    const relay = () => ac.abort(outer?.reason);
    outer?.addEventListener('abort', relay, { once: true });
    try {
      return await this.listUnder(ac.signal);
    } finally {
      outer?.removeEventListener('abort', relay);
    }
  }

  private async listUnder(signal: AbortSignal): Promise<WorkloadInfo[]> {
    const opts = { signal };
    const [ids, stats] = await Promise.all([
      this.virsh.run(['list', '--all', '--uuid', '--name'], opts).then(parseUuidNames),
      this.virsh.run(['domstats', '--raw', '--state', '--vcpu', '--balloon'], opts).then(parseDomstats),
    ]);
    const seen = new Set(ids.map((d) => d.uuid));
    for (const uuid of this.facts.keys()) if (!seen.has(uuid)) this.facts.delete(uuid);
    for (const { uuid, name } of ids) this.names.set(uuid, name);
    const rows = await mapLimit(ids, 4, async ({ uuid, name }) => {
      const facts = await this.factsOf(uuid, signal).catch(() => undefined);
      // A domain undefined between the two calls is simply not there any more.
      if (!facts && !stats.has(name)) return undefined;
      return rowOf(uuid, name, stats.get(name), facts);
    });
    return rows.filter((r): r is WorkloadInfo => r !== undefined).sort((a, b) => a.name.localeCompare(b.name));
  }

  async info(local: string, signal?: AbortSignal): Promise<WorkloadInfo> {
    const uuid = this.check(local);
    const facts = await this.factsOf(uuid, signal).catch((e: unknown) => {
      throw (e as { code?: string }).code === 'NOT_FOUND' ? driverError(D, 'NOT_FOUND', `no domain with UUID ${uuid} on ${this.virsh.uri}`) : e;
    });
    const stats = parseDomstats(await this.virsh.run(['domstats', '--raw', '--state', '--vcpu', '--balloon', uuid], signal ? { signal } : {}));
    return rowOf(uuid, facts.name, stats.get(facts.name) ?? [...stats.values()][0], facts);
  }
}

export function summaryOf(facts: DomainFacts | undefined, s: Stats | undefined): string {
  const vcpus = Number(s?.['vcpu.maximum'] ?? s?.['vcpu.current']) || facts?.vcpus || 0;
  const kib = Number(s?.['balloon.maximum']) || facts?.memoryKiB || 0;
  const disks = facts?.disks.filter((d) => d.device === 'disk').length ?? 0;
  const boot = facts?.kernel ? ' · kernel' : facts?.disks.some((d) => d.device === 'cdrom' && d.path) ? ' · ISO' : '';
  return `${vcpus} vCPU · ${Math.round(kib / 1024)} MiB${disks ? ` · ${disks} disk${disks > 1 ? 's' : ''}` : ''}${boot}`;
}

/** Domain type → what the list shows as the accelerator: tcg for libvirt's 'qemu'. */
export const accelOf = (type: string | undefined) => (type === 'qemu' ? 'tcg' : type);

export function rowOf(uuid: string, name: string, s: Stats | undefined, facts: DomainFacts | undefined): WorkloadInfo {
  const { state, exit } = stateOf(s);
  const runtime = accelOf(facts?.type);
  return {
    id: workloadId(D, uuid),
    driver: D,
    name,
    state,
    managed: facts?.nova !== undefined,
    ...(facts?.nova?.createdAt ? { createdAt: facts.nova.createdAt } : {}),
    ...(exit ? { exit } : {}),
    summary: summaryOf(facts, s),
    ...(runtime ? { runtime } : {}),
  };
}

/** Run fn over items, at most `limit` at a time, keeping order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
