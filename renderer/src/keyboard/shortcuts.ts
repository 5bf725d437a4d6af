import { useEffect } from 'react';
import { whyNot, type Action } from '../../../shared/actions.js';
import { isDirect, runAction } from '../actions.js';
import { tabsOf } from '../detail/tabs.js';
import { go, parseRoute } from '../router.js';
import { useDrivers } from '../stores/drivers.js';
import { useWorkloads } from '../stores/workloads.js';
import { cycleTheme } from '../theme.js';
import { SCREENS } from './commands.js';
import { askAction, openHelp, openNotifications, openPalette, useAppDialogs } from './dialogs.js';

/** Keys typed into a field, a terminal or a VM's screen belong there, not to the app. */
function ownedByTarget(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  if (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName)) return true;
  return t.closest('.xterm, .vnc-screen') !== null;
}

const SEQ_MS = 1500;

/** On a workload's page: which action a key means. */
function actionFor(key: string, state: string): Action | undefined {
  if (key === 's') return 'start';
  if (key === 'x') return 'stop';
  if (key === 'r') return 'restart';
  if (key === 'p') return state === 'paused' ? 'resume' : 'pause';
  if (key === 'Delete') return 'delete';
  return undefined;
}

/**
 * The app's keyboard: Ctrl/Cmd+K the palette, ? the list of keys, g then a letter to go
 * to a screen, / to search, and on a workload's page s/x/p/r/Del and [ ] between tabs.
 */
export function useShortcuts(): void {
  useEffect(() => {
    let pendingG = 0;
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'k') {
        if (ownedByTarget(e.target) && (e.target as HTMLElement).closest('.xterm, .vnc-screen')) return;
        e.preventDefault();
        openPalette();
        return;
      }
      const d = useAppDialogs.getState();
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || ownedByTarget(e.target) || d.palette || d.help || d.notifications || d.action || document.querySelector('.modal')) return;
      const route = parseRoute(location.hash);
      if (pendingG && Date.now() - pendingG < SEQ_MS) {
        pendingG = 0;
        const target = SCREENS.find((s) => s.keys === `g ${e.key}`);
        if (target) {
          e.preventDefault();
          go(target.route);
        }
        return;
      }
      switch (e.key) {
        case 'g':
          pendingG = Date.now();
          return;
        case '?':
          e.preventDefault();
          openHelp();
          return;
        case '/':
          e.preventDefault();
          if (route.screen !== 'workloads') go({ screen: 'workloads' });
          requestAnimationFrame(() => document.getElementById('workload-search')?.focus());
          return;
        case 't':
          cycleTheme();
          return;
        case 'n':
          openNotifications();
          return;
      }
      if (route.screen !== 'workload') return;
      const w = useWorkloads.getState().byId[route.id];
      const caps = w ? useDrivers.getState().byId[w.driver]?.capabilities : undefined;
      if (!w || !caps) return;
      if (e.key === '[' || e.key === ']') {
        const tabs = tabsOf(caps);
        const at = tabs.indexOf(route.tab ?? 'overview');
        const next = tabs[(at + (e.key === ']' ? 1 : -1) + tabs.length) % tabs.length]!;
        go({ screen: 'workload', id: w.id, tab: next });
        return;
      }
      const action = actionFor(e.key, w.state);
      if (!action || whyNot(action, w, caps) !== undefined || useWorkloads.getState().busy[w.id]) return;
      e.preventDefault();
      if (isDirect(action) && action !== 'delete') void runAction(w, action);
      else askAction(w.id, action);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

export const SHORTCUT_HELP: [string, string][] = [
  ['Ctrl/⌘ + K', 'Command palette'],
  ['?', 'This list'],
  ['g w · g d · g e · g v · g s', 'Workloads, Drivers, Events, VNC connections, Settings'],
  ['/', 'Search workloads'],
  ['↑ ↓ PgUp PgDn Home End, Enter', 'Move in the workload list, open'],
  ['s · x · p · r · Del', 'On a workload: start, stop, pause/resume, restart, delete'],
  ['[ ]', 'On a workload: previous / next tab (← → in the tab bar too)'],
  ['t', 'Theme: light → dark → system'],
  ['n', 'Notifications of this session'],
  ['Ctrl+Shift+C / Ctrl+Shift+V', 'In a terminal: copy / paste'],
  ['Esc', 'Close a dialog'],
];
