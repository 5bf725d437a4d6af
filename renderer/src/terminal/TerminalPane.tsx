import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { PasteDialog } from '../console/ConsoleView.js';
import { terminalSession } from './session.js';

/**
 * The Terminal tab: the workload's TTY with copy and paste. Its session outlives the tab
 * (and the page), so switching away and back finds the same shell.
 */
export function TerminalPane({ id, available, kindLabel, runKey }: { id: string; available: boolean; kindLabel: string; runKey?: string | undefined }) {
  const session = useMemo(() => terminalSession(id), [id]);
  const state = useSyncExternalStore(session.subscribe, () => session.snapshot);
  const host = useRef<HTMLDivElement>(null);
  const [pasting, setPasting] = useState(false);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    session.attach(el);
    const ro = new ResizeObserver(() => session.refit());
    ro.observe(el);
    session.term.focus();
    return () => {
      ro.disconnect();
      session.detach();
    };
  }, [session]);

  useEffect(() => {
    if (!available) session.reset();
    else if (session.snapshot.status === 'idle') session.connect();
  }, [available, session]);

  useEffect(() => session.follow(runKey, available), [runKey, available, session]);

  const paste = async () => {
    try {
      session.paste(await navigator.clipboard.readText());
    } catch {
      // Reading the clipboard needs a permission this page may not have: a box to paste into does not.
      setPasting(true);
    }
  };
  return (
    <div className="terminal-pane">
      <div className="toolbar" role="toolbar" aria-label="Terminal">
        <span className={`badge terminal-${available ? state.status : 'not-running'}`} data-testid="terminal-status">
          {available ? state.status : 'not running'}
        </span>
        <span className="muted">{kindLabel}</span>
        {available && state.status !== 'open' && state.status !== 'connecting' && (
          <button onClick={() => session.connect()} data-testid="terminal-reconnect">
            {state.status === 'idle' ? 'Open' : 'Reopen'}
          </button>
        )}
        <span className="spacer" />
        <button onClick={() => void session.copy()} data-testid="terminal-copy" title="Ctrl+Shift+C">
          Copy
        </button>
        <button onClick={() => void paste()} disabled={state.status !== 'open'} data-testid="terminal-paste" title="Ctrl+Shift+V">
          Paste
        </button>
      </div>
      {state.error && (
        <div className="banner banner-error" data-testid="terminal-error">
          {state.error}
        </div>
      )}
      {!available && <div className="console-placeholder muted">It needs to be running for a terminal.</div>}
      <div ref={host} className={`terminal${available ? '' : ' hidden'}`} data-testid={`terminal-${id}`} />
      {pasting && <PasteDialog title="Paste into the terminal" onClose={() => setPasting(false)} onSend={(t) => session.paste(t)} />}
    </div>
  );
}
