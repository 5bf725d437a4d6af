import { useCallback, useEffect, useMemo, useState } from 'react';
import { vncSaveInput, type VncConnection, type VncConnections } from '../../../shared/control-room.js';
import { fieldErrors } from '../../../shared/validate.js';
import { Confirm } from '../components/Confirm.js';
import { Field } from '../components/Field.js';
import { ConsoleView } from '../console/ConsoleView.js';
import { dropConsole } from '../console/session.js';
import { openWindow } from '../router.js';
import { notify } from '../stores/notices.js';
import { client } from '../transport/client.js';
import { savedConsole, VNC_PREFIX } from './openers.js';

interface Draft {
  id?: string;
  label: string;
  kind: 'tcp' | 'unix';
  host: string;
  port: string;
  socket: string;
  password: string;
  /** Editing: leave the saved password alone unless a new one is typed. */
  keepPassword: boolean;
}

const EMPTY: Draft = { label: '', kind: 'tcp', host: '', port: '5900', socket: '', password: '', keepPassword: false };

function toInput(d: Draft): Record<string, unknown> {
  return {
    ...(d.id ? { id: d.id } : {}),
    label: d.label,
    ...(d.kind === 'tcp' ? { host: d.host.trim(), port: d.port.trim() === '' ? undefined : Number(d.port) } : { socket: d.socket.trim() }),
    ...(d.keepPassword && d.password === '' ? {} : { password: d.password }),
  };
}

const target = (c: VncConnection) => (c.socket ?? `${c.host}:${c.port}`);

/**
 * Consoles to VNC servers NovaCron does not run (a libvirt guest, a lab machine's BMC),
 * through the core's proxy: the page never opens a TCP connection itself. In the web
 * mode the server allows this only toward the networks its operator listed.
 */
export function VncScreen() {
  const [data, setData] = useState<VncConnections | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [draft, setDraft] = useState<Draft | undefined>();
  const [touched, setTouched] = useState(false);
  const [open, setOpen] = useState<string | undefined>();
  const [deleting, setDeleting] = useState<VncConnection | undefined>();
  const [opening, setOpening] = useState(0);
  const load = useCallback(() => {
    client.call('vnc.list', {}).then(setData, (e: Error) => setError(e.message));
  }, []);
  useEffect(load, [load]);

  const errors = useMemo(() => (draft ? fieldErrors(vncSaveInput, toInput(draft)) : {}), [draft]);
  const save = async () => {
    if (!draft) return;
    setTouched(true);
    if (Object.keys(errors).length) return;
    try {
      const saved = await client.call('vnc.save', toInput(draft) as never);
      notify('info', `Saved ${saved.label}`);
      if (open === saved.id) setOpen(undefined);
      dropConsole(`${VNC_PREFIX}${saved.id}`);
      setDraft(undefined);
      setTouched(false);
      load();
    } catch (e) {
      notify('error', `Not saved: ${(e as Error).message}`);
    }
  };
  const enabled = data?.enabled ?? false;
  const openConn = data?.connections.find((c) => c.id === open);
  return (
    <section className="screen">
      <header className="screen-head">
        <h1>VNC connections</h1>
        <button className="primary" disabled={!enabled} onClick={() => setDraft({ ...EMPTY })} data-testid="vnc-new">
          New connection
        </button>
      </header>
      <p className="muted">Consoles to machines NovaCron does not run, through NovaCron’s own proxy. Passwords stay in the data dir (mode 0600) and are never shown here.</p>
      {error && <div className="banner banner-error">{error}</div>}
      {data && !data.enabled && (
        <div className="banner banner-warning" data-testid="vnc-disabled">
          {data.reason}
        </div>
      )}
      {data?.allow && <p className="muted small">This server may reach: {data.allow.join(', ')}</p>}
      {draft && (
        <form
          className="form card"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
          data-testid="vnc-form"
        >
          <Field name="vnc-label" label="Name" error={touched || draft.label ? errors.label : undefined}>
            <input value={draft.label} onChange={(e) => setDraft({ ...draft, label: e.target.value })} data-testid="vnc-field-label" autoFocus />
          </Field>
          <div className="row">
            <label className="row">
              <input type="radio" checked={draft.kind === 'tcp'} onChange={() => setDraft({ ...draft, kind: 'tcp' })} /> Host and port
            </label>
            <label className="row">
              <input type="radio" checked={draft.kind === 'unix'} onChange={() => setDraft({ ...draft, kind: 'unix' })} data-testid="vnc-kind-unix" /> Unix socket on the NovaCron host
            </label>
          </div>
          {draft.kind === 'tcp' ? (
            <div className="row">
              <Field name="vnc-host" label="Host" error={touched || draft.host ? errors.host : undefined}>
                <input value={draft.host} onChange={(e) => setDraft({ ...draft, host: e.target.value })} className="mono" placeholder="192.168.1.20" data-testid="vnc-field-host" />
              </Field>
              <Field name="vnc-port" label="Port" error={touched || draft.port ? errors.port : undefined} hint="5900 + display number">
                <input value={draft.port} onChange={(e) => setDraft({ ...draft, port: e.target.value })} inputMode="numeric" data-testid="vnc-field-port" />
              </Field>
            </div>
          ) : (
            <Field name="vnc-socket" label="Socket path" error={touched || draft.socket ? errors.socket : undefined}>
              <input value={draft.socket} onChange={(e) => setDraft({ ...draft, socket: e.target.value })} className="mono" placeholder="/var/lib/libvirt/qemu/vnc.sock" data-testid="vnc-field-socket" />
            </Field>
          )}
          <Field name="vnc-password" label="Password" error={errors.password} hint={draft.keepPassword ? 'Leave empty to keep the saved one' : 'Optional'}>
            <input type="password" autoComplete="off" value={draft.password} onChange={(e) => setDraft({ ...draft, password: e.target.value })} data-testid="vnc-field-password" />
          </Field>
          <div className="row end">
            <button type="button" onClick={() => setDraft(undefined)}>
              Cancel
            </button>
            <button type="submit" className="primary" data-testid="vnc-save">
              Save
            </button>
          </div>
        </form>
      )}
      <table className="list" data-testid="vnc-list">
        <thead>
          <tr>
            <th>Name</th>
            <th>Target</th>
            <th>Password</th>
            <th aria-label="Actions" />
          </tr>
        </thead>
        <tbody>
          {data?.connections.map((c) => (
            <tr key={c.id} data-testid={`vnc-row-${c.id}`}>
              <td>{c.label}</td>
              <td className="mono">{target(c)}</td>
              <td>{c.hasPassword ? 'saved' : '—'}</td>
              <td className="actions">
                <button
                  className="primary"
                  disabled={!enabled}
                  onClick={() => {
                    // Open is a fresh connection (new ticket, the saved password as it is now).
                    dropConsole(`${VNC_PREFIX}${c.id}`);
                    setOpen(c.id);
                    setOpening((n) => n + 1);
                  }}
                  data-testid={`vnc-open-${c.id}`}
                >
                  Open
                </button>
                <button disabled={!enabled} onClick={() => openWindow({ screen: 'console', key: `${VNC_PREFIX}${c.id}` })}>
                  New window
                </button>
                <button
                  disabled={!enabled}
                  onClick={() => setDraft({ id: c.id, label: c.label, kind: c.socket ? 'unix' : 'tcp', host: c.host ?? '', port: String(c.port ?? ''), socket: c.socket ?? '', password: '', keepPassword: c.hasPassword })}
                >
                  Edit
                </button>
                <button className="danger" disabled={!enabled} onClick={() => setDeleting(c)}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.connections.length === 0 && <p className="muted empty">No saved connections.</p>}
      {openConn && (
        <div className="card">
          <h2>{openConn.label}</h2>
          <ConsoleView key={`${openConn.id}-${opening}`} sessionKey={`${VNC_PREFIX}${openConn.id}`} opener={savedConsole(openConn.id)} available testId={`vnc-screen-${openConn.id}`} />
        </div>
      )}
      {deleting && (
        <Confirm
          title={`Forget ${deleting.label}?`}
          body="The saved connection and its password are removed."
          confirmLabel="Delete"
          onCancel={() => setDeleting(undefined)}
          onConfirm={() => {
            const c = deleting;
            setDeleting(undefined);
            dropConsole(`${VNC_PREFIX}${c.id}`);
            if (open === c.id) setOpen(undefined);
            client.call('vnc.delete', { id: c.id }).then(load, (e: Error) => notify('error', `Not deleted: ${e.message}`));
          }}
        />
      )}
    </section>
  );
}
