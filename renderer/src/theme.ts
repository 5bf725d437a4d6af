import { useSyncExternalStore } from 'react';

/** The admin's choice; 'system' follows the OS (prefers-color-scheme) and changes with it. */
export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'novacron.theme';
const media = window.matchMedia('(prefers-color-scheme: dark)');
const listeners = new Set<() => void>();

function stored(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

let choice: ThemeChoice = stored();
const resolved = () => (choice === 'system' ? (media.matches ? 'dark' : 'light') : choice);

function apply(): void {
  document.documentElement.dataset.theme = resolved();
  for (const l of listeners) l();
}

media.addEventListener('change', apply);
// Another window of the app (a console window) changed it.
window.addEventListener('storage', (e) => {
  if (e.key === KEY) {
    choice = stored();
    apply();
  }
});
apply();

export function setTheme(next: ThemeChoice): void {
  choice = next;
  try {
    if (next === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, next);
  } catch {
    // Storage may be off; the choice still holds for this window.
  }
  apply();
}

/** Light → dark → system → light. */
export const cycleTheme = () => setTheme(choice === 'light' ? 'dark' : choice === 'dark' ? 'system' : 'light');

const subscribe = (cb: () => void) => {
  listeners.add(cb);
  return () => listeners.delete(cb);
};

export const useTheme = () => ({
  choice: useSyncExternalStore(subscribe, () => choice),
  resolved: useSyncExternalStore(subscribe, resolved),
});
