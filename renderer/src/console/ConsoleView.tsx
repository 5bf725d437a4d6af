import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { Modal } from '../components/Modal.js';
import { openWindow } from '../router.js';
import { COMBOS } from './keys.js';
import { consoleSession, type ConsoleStatus, type Opener } from './session.js';

const STATUS_TEXT: Record<ConsoleStatus | 'not-running', string> = {
  'not-running': 'not running',
  idle: 'not connected',
  connecting: 'connecting',
  connected: 'connected',
  disconnected: 'disconnected',
  failed: 'failed',
};

/**
 * A VNC console with its toolbar: state, connect/reconnect, fit or 1:1, fullscreen, Ctrl+Alt+Del
 * and a key menu, paste-as-typing, and a window of its own. The connection belongs to a
 * session kept outside React, so leaving the tab does not drop it.
 */
export function ConsoleView(props: {
  sessionKey: string;
  opener: Opener;
  available: boolean;
  /** Changes when the workload runs on a new process (a restart, a migration): the old screen is gone, connect to the new one. */
  runKey?: string | undefined;
  unavailableText?: string;
  testId: string;
  standalone?: boolean;
}) {
  const { sessionKey, opener, available } = props;
  // The opener of a key never changes meaning: the session is looked up once per key.
  const session = useMemo(() => consoleSession(sessionKey, opener), [sessionKey]);
  const state = useSyncExternalStore(session.subscribe, () => session.snapshot);
  const host = useRef<HTMLDivElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  const [pasting, setPasting] = useState(false);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    el.appendChild(session.element);
    return () => session.element.remove();
  }, [session]);

  // Connect when it can run a console; go idle when it cannot, so it reconnects by itself when it can again.
  useEffect(() => {
    if (!available) session.reset();
    else if (session.snapshot.status === 'idle') void session.connect();
  }, [available, session]);

  useEffect(() => session.follow(props.runKey, available), [props.runKey, available, session]);

  const status: ConsoleStatus | 'not-running' = available ? state.status : 'not-running';
  const live = status === 'connected';
  return (
    <div className={`console${props.standalone ? ' standalone' : ''}`} ref={frame}>
      <div className="toolbar" role="toolbar" aria-label="Console">
        <span className={`badge console-${status}`} data-testid="console-status" aria-live="polite">
          {STATUS_TEXT[status]}
        </span>
        {state.desktop && <span className="muted mono">{state.desktop}</span>}
        {available && (status === 'disconnected' || status === 'failed' || status === 'idle') && (
          <button onClick={() => void session.connect()} data-testid="console-reconnect">
            {status === 'idle' ? 'Connect' : 'Reconnect'}
          </button>
        )}
        {live && (
          <button onClick={() => session.disconnect()} data-testid="console-disconnect">
            Disconnect
          </button>
        )}
        <span className="spacer" />
        <label className="row">
          Scale
          <select value={state.scale} onChange={(e) => session.setScale(e.target.value as 'fit' | 'native')} data-testid="console-scale">
            <option value="fit">Fit</option>
            <option value="native">1:1</option>
          </select>
        </label>
        <button disabled={!live} onClick={() => session.sendCombo('ctrl-alt-del')} data-testid="console-cad">
          Ctrl+Alt+Del
        </button>
        <select
          value=""
          disabled={!live}
          onChange={(e) => {
            if (e.target.value) session.sendCombo(e.target.value);
          }}
          aria-label="Send keys"
          data-testid="console-keys"
        >
          <option value="">Send keys…</option>
          {COMBOS.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </select>
        <button disabled={!live} onClick={() => setPasting(true)} data-testid="console-paste">
          Paste text…
        </button>
        <button onClick={() => void frame.current?.requestFullscreen?.()} data-testid="console-fullscreen">
          Fullscreen
        </button>
        {!props.standalone && (
          <button onClick={() => openWindow({ screen: 'console', key: sessionKey })} data-testid="console-window">
            New window
          </button>
        )}
      </div>
      {state.error && status === 'failed' && (
        <div className="banner banner-error" data-testid="console-error">
          {state.error}
        </div>
      )}
      {!available && <div className="console-placeholder muted">{props.unavailableText ?? 'Start it to see its screen.'}</div>}
      <div ref={host} className={`vnc${available ? '' : ' hidden'}`} data-testid={props.testId} />
      {pasting && <PasteDialog onClose={() => setPasting(false)} onSend={(text) => session.type(text)} />}
    </div>
  );
}

/** Text typed into the guest key by key (a browser cannot read the clipboard without asking; a paste into this box can). */
export function PasteDialog({ onClose, onSend, title = 'Type text into the guest' }: { onClose: () => void; onSend: (text: string) => void; title?: string }) {
  const [text, setText] = useState('');
  return (
    <Modal title={title} onClose={onClose} testId="paste-dialog">
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          onSend(text);
          onClose();
        }}
      >
        <textarea value={text} onChange={(e) => setText(e.target.value)} rows={5} className="mono" placeholder="Paste here (Ctrl+V), then Send" data-testid="paste-text" data-autofocus />
        <p className="muted small">Sent as key presses on a US layout; a new line is Enter.</p>
        <div className="row end">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={!text} data-testid="paste-send">
            Send
          </button>
        </div>
      </form>
    </Modal>
  );
}
