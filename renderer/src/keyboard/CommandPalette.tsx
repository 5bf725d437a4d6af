import { useMemo, useState, type KeyboardEvent } from 'react';
import { Modal } from '../components/Modal.js';
import { useRoute } from '../router.js';
import { useDrivers } from '../stores/drivers.js';
import { useWorkloads } from '../stores/workloads.js';
import { buildCommands, filterCommands } from './commands.js';
import { closeDialogs } from './dialogs.js';

/** Ctrl/Cmd+K: type a few letters of anything the app can do, Enter does it. */
export function CommandPalette() {
  const route = useRoute();
  const byId = useWorkloads((s) => s.byId);
  const drivers = useDrivers((s) => s.list);
  const [query, setQuery] = useState('');
  const [at, setAt] = useState(0);
  const all = useMemo(() => buildCommands(route, Object.values(byId), drivers), [route, byId, drivers]);
  const shown = useMemo(() => filterCommands(all, query), [all, query]);
  const pick = shown[Math.min(at, shown.length - 1)];

  const run = (i: number) => {
    const c = shown[i];
    if (!c || c.disabled) return;
    closeDialogs();
    c.run();
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      setAt((cur) => Math.max(0, Math.min(shown.length - 1, cur + (e.key === 'ArrowDown' ? 1 : -1))));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      run(Math.min(at, shown.length - 1));
    }
  };
  return (
    <Modal title="Commands" onClose={closeDialogs} testId="palette" wide>
      <input
        className="palette-input"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setAt(0);
        }}
        onKeyDown={onKey}
        placeholder="Type a command or a workload’s name"
        role="combobox"
        aria-expanded="true"
        aria-controls="palette-list"
        aria-activedescendant={pick ? `cmd-${pick.id}` : undefined}
        data-testid="palette-input"
        data-autofocus
      />
      <ul className="palette-list" id="palette-list" role="listbox">
        {shown.map((c, i) => (
          <li
            key={c.id}
            id={`cmd-${c.id}`}
            role="option"
            aria-selected={c === pick}
            aria-disabled={c.disabled !== undefined}
            className={`${c === pick ? 'active' : ''}${c.disabled ? ' disabled' : ''}`}
            onMouseEnter={() => setAt(i)}
            onClick={() => run(i)}
            title={c.disabled}
            data-testid="palette-option"
            data-command={c.id}
          >
            <span>{c.label}</span>
            <span className="muted small">{c.disabled ? c.disabled : c.group}</span>
            {c.keys && <kbd>{c.keys}</kbd>}
          </li>
        ))}
        {shown.length === 0 && <li className="muted">Nothing matches.</li>}
      </ul>
    </Modal>
  );
}
