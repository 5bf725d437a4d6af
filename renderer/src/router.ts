import { useSyncExternalStore } from 'react';

/** Hash routes, so the same build works from file:// in Electron and from the headless server. */
export type Route =
  | { screen: 'workloads' }
  | { screen: 'workload'; id: string }
  | { screen: 'create'; driver: string }
  | { screen: 'drivers' }
  | { screen: 'events' }
  | { screen: 'settings' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  switch (parts[0]) {
    case 'drivers':
      return { screen: 'drivers' };
    case 'settings':
      return { screen: 'settings' };
    case 'events':
      return { screen: 'events' };
    case 'create':
      return { screen: 'create', driver: parts[1] ?? 'process' };
    case 'workloads':
      return parts[1] ? { screen: 'workload', id: parts[1] } : { screen: 'workloads' };
    default:
      return { screen: 'workloads' };
  }
}

export function href(r: Route): string {
  switch (r.screen) {
    case 'workload':
      return `#/workloads/${encodeURIComponent(r.id)}`;
    case 'create':
      return `#/create/${r.driver}`;
    default:
      return `#/${r.screen}`;
  }
}

export function go(r: Route): void {
  location.hash = href(r);
}

const subscribe = (cb: () => void) => {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
};

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => location.hash);
  return parseRoute(hash);
}
