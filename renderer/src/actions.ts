import type { Action } from '../../shared/actions.js';
import type { WorkloadInfo } from '../../shared/model.js';
import { client } from './transport/client.js';
import { notify } from './stores/notices.js';
import { useWorkloads } from './stores/workloads.js';

export const ACTION_LABELS: Partial<Record<Action, string>> = {
  start: 'Start',
  stop: 'Stop',
  forceStop: 'Force stop',
  restart: 'Restart',
  pause: 'Pause',
  resume: 'Resume',
  delete: 'Delete',
};

/** Actions that lose state: the UI asks first. */
export const DESTRUCTIVE = new Set<Action>(['forceStop', 'delete']);

/**
 * Run one lifecycle action: the workload shows busy until it returns, the result is
 * applied at once (the event that follows changes nothing), and the core's own message
 * is shown when it fails.
 */
export async function runAction(w: WorkloadInfo, action: Action): Promise<void> {
  const store = useWorkloads.getState();
  store.setBusy(w.id, action);
  try {
    const id = w.id;
    switch (action) {
      case 'start':
        store.upsert(await client.call('workloads.start', { id }));
        break;
      case 'stop':
        store.upsert(await client.call('workloads.stop', { id }));
        break;
      case 'forceStop':
        store.upsert(await client.call('workloads.stop', { id, force: true }));
        break;
      case 'restart':
        store.upsert(await client.call('workloads.restart', { id }));
        break;
      case 'pause':
        store.upsert(await client.call('workloads.pause', { id }));
        break;
      case 'resume':
        store.upsert(await client.call('workloads.resume', { id }));
        break;
      case 'delete':
        // Only ever run after the confirmation dialog: that is the admin's yes, so force goes with it
        // (a running workload is stopped first; a libvirt domain is undefined only with force).
        await client.call('workloads.delete', { id, force: true });
        store.remove(id);
        break;
      default:
        throw new Error(`${action} has its own screen`);
    }
    notify('info', `${w.name}: ${ACTION_LABELS[action] ?? action} done`, w.id);
  } catch (e) {
    notify('error', `${w.name}: ${ACTION_LABELS[action] ?? action} failed: ${(e as Error).message}`, w.id);
  } finally {
    useWorkloads.getState().setBusy(w.id, undefined);
  }
}
