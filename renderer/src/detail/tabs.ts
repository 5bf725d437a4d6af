import type { Capability, CapabilityState } from '../../../shared/capabilities.js';
import { TABS, type Tab } from '../router.js';

export const TAB_LABELS: Record<Tab, string> = { overview: 'Overview', metrics: 'Metrics', console: 'Console', terminal: 'Terminal', logs: 'Logs', snapshots: 'Snapshots', events: 'Events' };
/** Which capability a tab needs; the others are always there. */
const TAB_CAP: Partial<Record<Tab, Capability>> = { metrics: 'metrics', console: 'console', terminal: 'terminal', logs: 'logs', snapshots: 'snapshot' };

/** The tabs a workload of a driver with these capabilities has. */
export function tabsOf(caps: Record<Capability, CapabilityState> | undefined): Tab[] {
  return TABS.filter((t) => {
    const cap = TAB_CAP[t];
    return cap === undefined || caps?.[cap].available === true;
  });
}
