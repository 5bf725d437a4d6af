import type { WorkloadInfo } from '../../../../shared/model.js';
import { driverError, invalid, NovaError } from '../../base/errors.js';
import type { OpContext, Origin } from '../driver.js';
import { libvirtUriRunsProgram } from '../../../../shared/config.js';
import { what, type Lv } from './context.js';
import { accelOf, summaryOf } from './domains.js';
import { watchJob } from './jobs.js';
import { domstate, onDomain } from './lifecycle.js';
import { D, uriHost } from './virsh.js';

/**
 * Where a domain may go: another libvirtd over SSH or plain TCP (TLS too), with a host.
 * A `command=`/`netcat=` parameter makes libvirt run that program here: the admin's (CLI)
 * to give, never the page's (desktop window, browser), as with the libvirt.uri setting.
 */
export function checkTarget(to: string, origin: Origin): string {
  if (!/^qemu\+(ssh|tcp|tls):\/\/[^/?#\s]+\/(system|session)(\?[^\s#]*)?$/.test(to)) {
    throw invalid('to', 'must be a libvirt URI of another host: qemu+ssh://[user@]HOST/system or qemu+tcp://HOST[:PORT]/system', D);
  }
  if ((origin === 'desktop' || origin === 'headless') && libvirtUriRunsProgram(to)) throw invalid('to', 'must not name a program for libvirt to run (command=, netcat=)', D);
  const host = uriHost(to);
  if (!host) throw invalid('to', 'names no host', D);
  return host;
}

/**
 * Live migration with `virsh migrate --live`: the destination libvirtd defines the
 * domain (--persistent) and this one forgets it once it runs there (--undefinesource), so
 * the domain is moved, never left defined twice over the same disks. Disks must be on
 * storage both hosts see. QEMU's stream goes straight to the destination host
 * (--migrateuri tcp://HOST). Progress is `domjobinfo` every quarter second; cancelling
 * is `domjobabort`, after which the domain runs on here as before.
 */
export async function migrate(lv: Lv, local: string, to: string, ctx: OpContext): Promise<WorkloadInfo> {
  const host = checkTarget(to, ctx.origin);
  return onDomain(lv, local, 'migrate', ctx, async (f) => {
    const state = await domstate(lv, f.uuid, ctx.signal);
    if (state !== 'running' && state !== 'paused') throw driverError(D, 'CONFLICT', `${what(f)} is ${state}: only a running or paused domain migrates live`);
    const args = ['migrate', f.uuid, to, '--live', '--persistent', '--undefinesource', '--migrateuri', `tcp://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}`];
    // The admin vouches that the disks are shared in a way libvirt cannot see (its check knows NFS, Ceph, GFS2…).
    if (lv.config['libvirt.shared_storage']) args.push('--unsafe');
    const label = `migration of ${what(f)} to ${to}`;
    try {
      await watchJob(lv, f.uuid, label, ctx, lv.virsh.run(args, { timeoutMs: 0 }), async () => {
        await lv.virsh.run(['domjobabort', f.uuid], { timeoutMs: 10_000 });
      });
    } catch (e) {
      if (e instanceof NovaError && e.code === 'CANCELLED') throw new NovaError('CANCELLED', `${D}: ${label} was cancelled; the domain keeps running here`, { driver: D });
      if (e instanceof NovaError && /Unsafe migration/.test(e.message)) {
        throw driverError(D, 'CONFLICT', `${e.message.replace(/^libvirt: /, '')}: its disks are on local storage; put them where both hosts see them (NFS, Ceph…), or, if they are already shared in a way libvirt cannot tell, set libvirt.shared_storage`);
      }
      throw e;
    }
    lv.domains.forget(f.uuid);
    ctx.progress({ label: `${what(f)} now runs on ${to}`, done: 1, total: 1, unit: 'steps' });
    // The domain is no longer this connection's: what it was, marked as moved. The watcher reports it removed.
    return {
      id: `${D}:${f.uuid}`,
      driver: D,
      name: f.name,
      state: 'stopped',
      managed: f.nova !== undefined,
      exit: { reason: `migrated to ${to}`, at: new Date().toISOString() },
      summary: `${summaryOf(f, undefined)} · moved to ${to}`,
      ...(accelOf(f.type) ? { runtime: accelOf(f.type)! } : {}),
    };
  });
}
