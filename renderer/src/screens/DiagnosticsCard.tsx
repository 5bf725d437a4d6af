import { useState } from 'react';
import type { DiagnosticsResult } from '../../../shared/observability.js';
import { client } from '../transport/client.js';
import { notify } from '../stores/notices.js';

/** Settings' "diagnostics bundle" button: one tar.gz in the data dir, to attach to a bug report. */
export function DiagnosticsCard() {
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<DiagnosticsResult | undefined>();
  const create = async () => {
    setBusy(true);
    try {
      const r = await client.call('diag.create', {});
      setDone(r);
      notify('info', `Diagnostics bundle written: ${r.file}`);
    } catch (e) {
      notify('error', `No diagnostics bundle: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="card" style={{ marginTop: 20, maxWidth: 640 }}>
      <h2>Diagnostics</h2>
      <p className="muted">
        One archive with the version of every engine, the capability matrix, this configuration (secrets removed), the latest events and log lines. It
        is written on the machine NovaCron runs on.
      </p>
      <button onClick={() => void create()} disabled={busy} data-testid="diag-create">
        {busy ? 'Writing…' : 'Create diagnostics bundle'}
      </button>
      {done && (
        <p className="mono" data-testid="diag-file">
          {done.file}
        </p>
      )}
    </div>
  );
}
