import './theme.js';
import './styles.css';

// The page boots in two module evaluations, each a task of its own: React DOM first, then
// the app (boot.tsx). Evaluated as one graph they were the longest task while the page
// loads (~45 ms on this 2-core machine, against a 50 ms budget: `npm run bench`,
// renderer-scale). The theme and the styles come first, so nothing paints unthemed. The
// timeout puts the app in a task of its own even when its chunk is already fetched (a
// promise's continuation would run it at the same task's microtask checkpoint).
const failed = (e: unknown) => {
  // A chunk that cannot be fetched (the server went away mid-load) says so, not a blank window.
  document.getElementById('root')!.textContent = `NovaCron's page could not load (${(e as Error).message}). Reload it.`;
};
void import('react-dom/client').then(() => setTimeout(() => void import('./boot.js').catch(failed), 0), failed);
