import { whyNot } from '../../../shared/actions.js';
import type { DriverInfo } from '../../../shared/capabilities.js';
import type { WorkloadInfo } from '../../../shared/model.js';
import { ACTION_LABELS, DESTRUCTIVE, LIFECYCLE, isDirect, runAction } from '../actions.js';
import { tabsOf } from '../detail/tabs.js';
import { go, type Route } from '../router.js';
import { setTheme } from '../theme.js';
import { askAction, openNotifications } from './dialogs.js';

export interface Command {
  id: string;
  label: string;
  group: string;
  /** The shortcut that does the same, shown beside it. */
  keys?: string;
  /** Why it cannot run now. */
  disabled?: string;
  run: () => void;
}

export const SCREENS: { route: Route; label: string; keys: string }[] = [
  { route: { screen: 'workloads' }, label: 'Workloads', keys: 'g w' },
  { route: { screen: 'drivers' }, label: 'Drivers (capability matrix)', keys: 'g d' },
  { route: { screen: 'events' }, label: 'Events', keys: 'g e' },
  { route: { screen: 'vnc' }, label: 'VNC connections', keys: 'g v' },
  { route: { screen: 'settings' }, label: 'Settings', keys: 'g s' },
];

const SHORTCUT: Partial<Record<string, string>> = { start: 's', stop: 'x', pause: 'p', resume: 'p', restart: 'r', delete: 'Del' };

/** Everything the palette offers from where the admin is: screens, creation, the current workload's actions and tabs, every workload by name. */
export function buildCommands(route: Route, workloads: readonly WorkloadInfo[], drivers: readonly DriverInfo[]): Command[] {
  const out: Command[] = [];
  const current = route.screen === 'workload' ? workloads.find((w) => w.id === route.id) : undefined;
  const caps = current ? drivers.find((d) => d.id === current.driver)?.capabilities : undefined;
  if (current && caps) {
    for (const a of LIFECYCLE) {
      const reason = whyNot(a, current, caps);
      out.push({
        id: `action-${a}`,
        label: `${ACTION_LABELS[a]} ${current.name}${DESTRUCTIVE.has(a) || !isDirect(a) ? '…' : ''}`,
        group: current.name,
        ...(SHORTCUT[a] ? { keys: SHORTCUT[a] } : {}),
        ...(reason ? { disabled: reason } : {}),
        run: () => (isDirect(a) && !DESTRUCTIVE.has(a) ? void runAction(current, a) : askAction(current.id, a)),
      });
    }
    for (const t of tabsOf(caps)) out.push({ id: `tab-${t}`, label: `Show ${t}`, group: current.name, run: () => go({ screen: 'workload', id: current.id, tab: t }) });
  }
  // What applies to the workload on screen comes first; then the screens and creation.
  out.push(...SCREENS.map((s) => ({ id: `go-${s.route.screen}`, label: `Go to ${s.label}`, group: 'Navigate', keys: s.keys, run: () => go(s.route) })));
  for (const d of drivers) {
    if (d.capabilities.create.available) out.push({ id: `create-${d.id}`, label: `New ${d.name.toLowerCase()}…`, group: 'Create', run: () => go({ screen: 'create', driver: d.id }) });
  }
  out.push(
    { id: 'notifications', label: 'Show notifications', group: 'Navigate', keys: 'n', run: openNotifications },
    { id: 'theme-light', label: 'Theme: light', group: 'Appearance', run: () => setTheme('light') },
    { id: 'theme-dark', label: 'Theme: dark', group: 'Appearance', run: () => setTheme('dark') },
    { id: 'theme-system', label: 'Theme: follow the system', group: 'Appearance', keys: 't cycles', run: () => setTheme('system') },
  );
  for (const w of workloads) out.push({ id: `open-${w.id}`, label: `Open ${w.name}`, group: `Workloads · ${w.driver} · ${w.state}`, run: () => go({ screen: 'workload', id: w.id, tab: 'overview' }) });
  return out;
}

/** Every word must appear, in any order: "stop web" finds "Stop web-1". */
export function filterCommands(all: readonly Command[], query: string, limit = 60): Command[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return all.filter((c) => !c.id.startsWith('open-')).slice(0, limit);
  const out: Command[] = [];
  for (const c of all) {
    const hay = `${c.label} ${c.group}`.toLowerCase();
    if (words.every((w) => hay.includes(w))) out.push(c);
    if (out.length >= limit) break;
  }
  return out;
}
