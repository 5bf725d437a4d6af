import type { Capability } from '../../../shared/capabilities.js';
import { parseWorkloadId, type DriverId } from '../../../shared/ids.js';
import type { WorkloadInfo } from '../../../shared/model.js';
import { isActive } from '../../../shared/actions.js';
import { isAdminOnlyKey, isConfigKey, libvirtUriRunsProgram } from '../../../shared/config.js';
import { NovaError, toErrorData } from '../base/errors.js';
import type { Driver } from '../drivers/driver.js';
import type { MethodImpl } from './router.js';
import type { Core } from '../core.js';
import { observabilityMethods } from '../observability/methods.js';
import { controlRoomMethods } from '../control-room/methods.js';

/** Default seconds between a graceful stop and the forced one. */
export const DEFAULT_STOP_TIMEOUT = 10;

/**
 * The contract's methods, implemented once over the driver manager. Generic rules live
 * here (an id names its driver; deleting a running workload needs force; every change is
 * published), so drivers only do their engine's part.
 */
export function createMethods(core: Core): MethodImpl {
  const { drivers, events, metrics } = core;

  const target = async (id: string, cap: Capability): Promise<{ driver: Driver; local: string }> => {
    const ref = parseWorkloadId(id);
    if (!ref) throw new NovaError('INVALID_ARGUMENT', `id: '${id}' is not a workload id`, { field: 'id' });
    return { driver: await drivers.require(ref.driver, cap), local: ref.local };
  };
  const changed = (info: WorkloadInfo): WorkloadInfo => {
    events.publish({ type: 'workload', info });
    return info;
  };

  return {
    'drivers.list': async ({ refresh }) => drivers.infoAll(refresh ?? false),

    'workloads.list': async ({ driver }, ctx) => {
      if (driver) {
        const info = await drivers.info(driver);
        if (!info.available) throw new NovaError('UNAVAILABLE', `${driver}: ${info.reason ?? 'unavailable'}`, { driver });
        return { workloads: await (await drivers.get(driver)).list(ctx.signal), errors: [] };
      }
      const unavailable: { driver: DriverId; code: string; message: string }[] = [];
      const failed: typeof unavailable = [];
      // Each driver's listing starts while its detection runs (a cold CLI detects every
      // driver: engine pings, tool probes), so a list costs the longer of the two, not their
      // sum. A driver found unavailable has its listing cancelled and its answer dropped.
      const lists = await Promise.all(
        drivers.ids.map(async (id) => {
          const ac = new AbortController();
          const relay = () => ac.abort(ctx.signal.reason);
          ctx.signal.addEventListener('abort', relay, { once: true });
          try {
            const listing = drivers.get(id).then((d) => d.list(AbortSignal.any([ctx.signal, ac.signal])));
            listing.catch(() => undefined); // read below, or dropped with the driver
            const det = await drivers.detect(id);
            if (!det.available) {
              ac.abort();
              // "not built yet" and "not installed here" are the matrix's business, not errors of the list.
              if (det.reason !== undefined && det.reason !== 'not built yet' && !det.absent) {
                unavailable.push({ driver: id, code: 'UNAVAILABLE', message: `${id}: ${det.reason}` });
              }
              return [];
            }
            try {
              return await listing;
            } catch (e) {
              const err = toErrorData(e);
              failed.push({ driver: id, code: err.code, message: err.message });
              return [];
            }
          } finally {
            ctx.signal.removeEventListener('abort', relay);
          }
        }),
      );
      return { workloads: lists.flat(), errors: [...unavailable, ...failed] };
    },

    'workloads.create': async (spec, ctx) => {
      const driver = await drivers.require(spec.driver, 'create');
      return changed(await driver.create!(spec, ctx));
    },

    'workloads.inspect': async ({ id }, ctx) => {
      const ref = parseWorkloadId(id)!;
      const info = await drivers.info(ref.driver);
      if (!info.available) throw new NovaError('UNAVAILABLE', `${ref.driver}: ${info.reason ?? 'unavailable'}`, { driver: ref.driver });
      return (await drivers.get(ref.driver)).inspect(ref.local, ctx.signal);
    },

    'workloads.start': async ({ id }, ctx) => {
      const { driver, local } = await target(id, 'start');
      if (!driver.refusesActive) {
        const now = await driver.info(local, ctx.signal);
        if (isActive(now)) throw new NovaError('CONFLICT', `${driver.id}: '${now.name}' is already ${now.state}`, { driver: driver.id });
      }
      return changed(await driver.start!(local, ctx));
    },

    'workloads.stop': async ({ id, force, timeoutSec }, ctx) => {
      const { driver, local } = await target(id, 'stop');
      return changed(await driver.stop!(local, { force: force ?? false, timeoutSec: timeoutSec ?? DEFAULT_STOP_TIMEOUT }, ctx));
    },

    'workloads.restart': async ({ id }, ctx) => {
      const { driver, local } = await target(id, 'restart');
      return changed(await driver.restart!(local, ctx));
    },

    'workloads.pause': async ({ id }, ctx) => {
      const { driver, local } = await target(id, 'pause');
      return changed(await driver.pause!(local, ctx));
    },

    'workloads.resume': async ({ id }, ctx) => {
      const { driver, local } = await target(id, 'pause');
      return changed(await driver.resume!(local, ctx));
    },

    'workloads.delete': async ({ id, force }, ctx) => {
      const { driver, local } = await target(id, 'delete');
      if (!driver.refusesActive) {
        const now = await driver.info(local, ctx.signal);
        if (isActive(now) && !force) throw new NovaError('CONFLICT', `${driver.id}: '${now.name}' is ${now.state}: stop it first, or delete with force`, { driver: driver.id });
      }
      await driver.delete!(local, { force: force ?? false }, ctx);
      events.publish({ type: 'workload-removed', id });
      return { id };
    },

    'workloads.stats': async ({ id }, ctx) => metrics.once(id, ctx.signal),

    'workloads.scale': async ({ id, memoryMB, cpus }, ctx) => {
      if (memoryMB === undefined && cpus === undefined) {
        throw new NovaError('INVALID_ARGUMENT', 'memoryMB: give memoryMB, cpus or both', { field: 'memoryMB' });
      }
      const { driver, local } = await target(id, 'scale');
      return changed(
        await driver.scale!(local, { ...(memoryMB !== undefined ? { memoryMB } : {}), ...(cpus !== undefined ? { cpus } : {}) }, ctx),
      );
    },

    'workloads.migrate': async ({ id, to }, ctx) => {
      const { driver, local } = await target(id, 'migrate');
      return changed(await driver.migrate!(local, to, ctx));
    },

    'workloads.convert': async ({ id, to, name }, ctx) => {
      const ref = parseWorkloadId(id)!;
      if (ref.driver === to) throw new NovaError('INVALID_ARGUMENT', `to: '${id}' is already a ${to} workload`, { field: 'to' });
      const { drivers: usable } = await drivers.available();
      const converter = usable.find((d) => d.convert !== undefined && d.converts?.some((c) => c.from === ref.driver && c.to === to));
      if (!converter) throw new NovaError('NOT_SUPPORTED', `${ref.driver} → ${to}: no available driver converts these (libvirt converts kvm VMs to domains and back)`);
      const made = parseWorkloadId(await converter.convert!(id, to, name !== undefined ? { name } : {}, ctx))!;
      events.publish({ type: 'workload-removed', id });
      return changed(await (await drivers.get(made.driver)).info(made.local, ctx.signal));
    },

    'snapshots.list': async ({ id }, ctx) => {
      const { driver, local } = await target(id, 'snapshot');
      return driver.snapshots!.list(local, ctx.signal);
    },
    'snapshots.create': async ({ id, name }, ctx) => {
      const { driver, local } = await target(id, 'snapshot');
      const snap = await driver.snapshots!.create(local, name, ctx);
      // The workload's row as it now is goes out on the event stream (best effort: the snapshot
      // is made whatever that read says); the answer is the snapshot and does not wait for it.
      void driver.info(local, ctx.signal).then(changed, () => undefined);
      return snap;
    },
    'snapshots.revert': async ({ id, name }, ctx) => {
      const { driver, local } = await target(id, 'snapshot');
      return changed(await driver.snapshots!.revert(local, name, ctx));
    },
    'snapshots.delete': async ({ id, name }, ctx) => {
      const { driver, local } = await target(id, 'snapshot');
      await driver.snapshots!.delete(local, name, ctx);
      return { name };
    },

    'images.list': async ({ driver }, ctx) => (await drivers.require(driver, 'images')).images!.list(ctx.signal),
    'images.import': async ({ driver, file, name }, ctx) => (await drivers.require(driver, 'images')).images!.import(file, name, ctx),
    'images.pull': async ({ driver, ref }, ctx) => {
      const d = await drivers.require(driver, 'images');
      if (!d.images!.pull) throw new NovaError('NOT_SUPPORTED', `${driver}: images: this driver imports images but cannot pull them`, { driver });
      return d.images!.pull(ref, ctx);
    },
    'images.delete': async ({ driver, ref }, ctx) => {
      await (await drivers.require(driver, 'images')).images!.delete(ref, ctx);
      return { ref };
    },

    'console.open': async ({ id }, ctx) => core.consoles.open(id, ctx.origin),

    'terminal.input': async ({ session, data }, ctx) => {
      core.terminals.get(session, ctx.client).write(data);
      return null;
    },
    'terminal.resize': async ({ session, cols, rows }, ctx) => {
      core.terminals.get(session, ctx.client).resize(cols, rows);
      return null;
    },

    'operations.cancel': async ({ op }) => ({ cancelled: core.router.cancel(op) }),

    'config.get': async () => {
      const loaded = core.config;
      return { config: loaded.config, file: loaded.file, sources: loaded.sources };
    },
    'config.set': async ({ values }, ctx) => {
      // The page (desktop window, browser) may not name programs to run or directories to write: see adminOnly.
      if (ctx.origin === 'desktop' || ctx.origin === 'headless') {
        const locked = Object.keys(values).find((k) => isConfigKey(k) && isAdminOnlyKey(k));
        if (locked) {
          throw new NovaError('INVALID_ARGUMENT', `values.${locked}: names a program or a directory; only the admin sets it (novacron config set, or the config file)`, {
            field: `values.${locked}`,
          });
        }
        const uri = values['libvirt.uri'];
        if (typeof uri === 'string' && libvirtUriRunsProgram(uri)) {
          throw new NovaError('INVALID_ARGUMENT', 'values.libvirt.uri: makes libvirt run a program (ext transport, command= or netcat=); only the admin sets such a URI', {
            field: 'values.libvirt.uri',
          });
        }
      }
      await core.updateConfig(values);
      return { config: core.config.config, file: core.config.file };
    },

    ...observabilityMethods(core),
    ...controlRoomMethods(core),
  };
}
