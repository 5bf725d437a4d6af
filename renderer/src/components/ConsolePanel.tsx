import { useCallback, useEffect, useState } from 'react';
import { client } from '../transport/client.js';
import { VncConsole } from './VncConsole.js';

/** The page's WebSocket URL for a console path of the headless server it came from. */
const sameOrigin = (path: string) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;

/** The Console card: asks the core for a one-time ticket, shows the screen, reconnects on demand with a new one. */
export function ConsolePanel({ id }: { id: string }) {
  const [url, setUrl] = useState<string | undefined>();
  const [status, setStatus] = useState<'connecting' | 'connected' | 'disconnected'>('connecting');
  const [error, setError] = useState<string | undefined>();
  const connect = useCallback(() => {
    setStatus('connecting');
    setError(undefined);
    client.call('console.open', { id }).then(
      (t) => setUrl(t.url ?? sameOrigin(t.path)),
      (e: Error) => {
        setStatus('disconnected');
        setError(e.message);
      },
    );
  }, [id]);
  useEffect(connect, [connect]);
  return (
    <div className="card">
      <div className="card-head">
        <h2>Console</h2>
        <span className="muted" data-testid="console-status">
          {status}
        </span>
        {status === 'disconnected' && (
          <button onClick={connect} data-testid="console-reconnect">
            Reconnect
          </button>
        )}
      </div>
      {error && <div className="banner banner-error">{error}</div>}
      {url && <VncConsole url={url} testId={`vnc-${id}`} onConnect={() => setStatus('connected')} onDisconnect={() => setStatus('disconnected')} />}
    </div>
  );
}
