import './theme.js';
import './styles.css';

// The page boots in two module evaluations, each a task of its own: React DOM first, then
// the app (boot.tsx). Evaluated as one graph they were the longest task while the page
// loads (~45 ms on this 2-core machine, against a 50 ms budget: `npm run bench`,
// renderer-scale). The theme and the styles come first, so nothing paints unthemed.
// The timeout puts the app's evaluation in a task of its own even when its chunk is already
// fetched (a promise's continuation would run it in the same task, at its microtask checkpoint).
void import('react-dom/client').then(() => setTimeout(() => void import('./boot.js'), 0));
