import { useMemo } from 'react';
import { client } from '../transport/client.js';
import { TerminalView, type TerminalSource } from './TerminalView.js';

/** The Terminal card: the workload's own TTY (a VM's serial console) as a terminal stream of the contract. */
export function TerminalPanel({ id }: { id: string }) {
  const source = useMemo<TerminalSource>(() => {
    let session: string | undefined;
    let size: { cols: number; rows: number } | undefined;
    const sendSize = () => {
      if (session && size) void client.call('terminal.resize', { session, ...size }).catch(() => undefined);
    };
    return {
      subscribe(write) {
        return client.subscribe('terminal', { id, ...(size ?? {}) }, {
          event: (e) => {
            if (e.type === 'ready') {
              session = e.session;
              sendSize();
            } else if (e.type === 'data' && e.data) write(e.data);
            else if (e.type === 'exit') write('\r\n[the console closed]\r\n');
          },
          error: (err) => write(`\r\n[${err.message}]\r\n`),
        });
      },
      input(data) {
        if (session) void client.call('terminal.input', { session, data }).catch(() => undefined);
      },
      resize(cols, rows) {
        size = { cols, rows };
        sendSize();
      },
    };
  }, [id]);
  return (
    <div className="card">
      <h2>Terminal</h2>
      <TerminalView source={source} testId={`terminal-${id}`} />
    </div>
  );
}
