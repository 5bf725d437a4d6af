import { useSyncExternalStore } from 'react';

export const TABS = ['overview', 'metrics', 'console', 'terminal', 'logs', 'snapshots', 'events'] as const;
export type Tab = (typeof TABS)[number];

/** Hash routes, so the same build works from file:// in Electron and from the headless server. */
export type Route =
  | { screen: 'workloads' }
  | { screen: 'workload'; id: string; tab?: Tab }
  | { screen: 'create'; driver: string }
  | { screen: 'drivers' }
  | { screen: 'events' }
  | { screen: 'settings' }
  | { screen: 'vnc' }
  /** A console alone, for a window of its own: a workload id, or vnc:<saved connection id>. */
  | { screen: 'console'; key: string };

const isTab = (t: string | undefined): t is Tab => (TABS as readonly string[]).includes(t ?? '');

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  switch (parts[0]) {
    case 'drivers':
      return { screen: 'drivers' };
    case 'settings':
      return { screen: 'settings' };
    case 'events':
      return { screen: 'events' };
    case 'vnc':
      return { screen: 'vnc' };
    case 'console':
      return parts[1] ? { screen: 'console', key: parts[1] } : { screen: 'workloads' };
    case 'create':
      return { screen: 'create', driver: parts[1] ?? 'process' };
    case 'workloads':
      return parts[1] ? { screen: 'workload', id: parts[1], tab: isTab(parts[2]) ? parts[2] : 'overview' } : { screen: 'workloads' };
    default:
      return { screen: 'workloads' };
  }
}

export function href(r: Route): string {
  switch (r.screen) {
    case 'workload':
      return `#/workloads/${encodeURIComponent(r.id)}${!r.tab || r.tab === 'overview' ? '' : `/${r.tab}`}`;
    case 'create':
      return `#/create/${r.driver}`;
    case 'console':
      return `#/console/${encodeURIComponent(r.key)}`;
    default:
      return `#/${r.screen}`;
  }
}

export function go(r: Route): void {
  location.hash = href(r);
}

/** The app's own page at a route, in a new window (Electron's shell turns it into a window of ours). */
export function openWindow(r: Route): void {
  const url = `${location.href.split('#')[0]}${href(r)}`;
  window.open(url, `novacron-${href(r)}`, 'width=1024,height=720');
}

const subscribe = (cb: () => void) => {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
};

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => location.hash);
  return parseRoute(hash);
}
