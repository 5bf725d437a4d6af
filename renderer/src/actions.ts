import type { Action } from '../../shared/actions.js';
import type { WorkloadInfo } from '../../shared/model.js';
import { notify } from './stores/notices.js';
import { track } from './stores/operations.js';
import { useWorkloads } from './stores/workloads.js';

export const ACTION_LABELS: Record<Action, string> = {
  start: 'Start',
  stop: 'Stop',
  forceStop: 'Force stop',
  restart: 'Restart',
  pause: 'Pause',
  resume: 'Resume',
  delete: 'Delete',
  snapshot: 'Snapshot',
  migrate: 'Migrate',
  scale: 'Scale',
  console: 'Console',
  terminal: 'Terminal',
  logs: 'Logs',
};

/** Actions that lose state: the UI asks first. */
export const DESTRUCTIVE = new Set<Action>(['forceStop', 'delete']);

/** Actions that need more than a click: a dialog asks for a name, a target or sizes. */
export const WITH_DIALOG = new Set<Action>(['snapshot', 'migrate', 'scale']);

/** The buttons of a workload, in order. */
export const LIFECYCLE: Action[] = ['start', 'stop', 'forceStop', 'restart', 'pause', 'resume', 'snapshot', 'migrate', 'scale', 'delete'];

type Direct = 'start' | 'stop' | 'forceStop' | 'restart' | 'pause' | 'resume' | 'delete';

async function call(w: WorkloadInfo, action: Direct): Promise<WorkloadInfo | undefined> {
  const id = w.id;
  const meta = { label: `${ACTION_LABELS[action]} ${w.name}`, workloadId: id };
  switch (action) {
    case 'start':
      return track('workloads.start', { id }, meta);
    case 'stop':
      return track('workloads.stop', { id }, meta);
    case 'forceStop':
      return track('workloads.stop', { id, force: true }, meta);
    case 'restart':
      return track('workloads.restart', { id }, meta);
    case 'pause':
      return track('workloads.pause', { id }, meta);
    case 'resume':
      return track('workloads.resume', { id }, meta);
    case 'delete':
      // Only ever run after the confirmation dialog: that is the admin's yes, so force goes with it
      // (a running workload is stopped first; a libvirt domain is undefined only with force).
      await track('workloads.delete', { id, force: true }, meta);
      return undefined;
  }
}

/**
 * Run one lifecycle action: the workload shows busy until it returns, the result is
 * applied at once (the event that follows changes nothing), and the core's own message
 * is shown when it fails. Resolves true when it worked.
 */
export async function runAction(w: WorkloadInfo, action: Direct): Promise<boolean> {
  const store = useWorkloads.getState();
  store.setBusy(w.id, action);
  try {
    const after = await call(w, action);
    if (after) store.upsert(after);
    else store.remove(w.id);
    notify('info', `${w.name}: ${ACTION_LABELS[action]} done`, w.id);
    return true;
  } catch (e) {
    notify('error', `${w.name}: ${ACTION_LABELS[action]} failed: ${(e as Error).message}`, w.id);
    return false;
  } finally {
    useWorkloads.getState().setBusy(w.id, undefined);
  }
}

export const isDirect = (a: Action): a is Direct => ['start', 'stop', 'forceStop', 'restart', 'pause', 'resume', 'delete'].includes(a);
