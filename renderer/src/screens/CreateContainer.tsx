import { useEffect, useState } from 'react';
import { containerCreateSchema, parseMountFlag, parsePortFlag, RESTART_POLICIES } from '../../../shared/drivers/container.js';
import type { ImageInfo } from '../../../shared/model.js';
import { fieldErrors } from '../../../shared/validate.js';
import { RemoteError } from '../../../shared/contract/client.js';
import { Field } from '../components/Field.js';
import { ImageImport } from '../components/ImageImport.js';
import { client } from '../transport/client.js';
import { notify } from '../stores/notices.js';
import { useWorkloads } from '../stores/workloads.js';
import { go } from '../router.js';

interface Draft {
  name: string;
  image: string;
  cmd: string;
  args: string;
  env: string;
  workdir: string;
  ports: string;
  mounts: string;
  network: string;
  restart: string;
  memoryMB: string;
  cpus: string;
  cpuShares: string;
  start: boolean;
}

const EMPTY: Draft = { name: '', image: '', cmd: '', args: '', env: '', workdir: '', ports: '', mounts: '', network: '', restart: 'no', memoryMB: '', cpus: '', cpuShares: '', start: true };

const linesOf = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean);

/**
 * The form's text → the contract's spec, plus the problems only the form can see (a line
 * that is not KEY=VALUE, a port that is not HOST:CONTAINER). Ports and mounts use the
 * CLI's own spelling, read by the same shared parsers.
 */
function toSpec(d: Draft): { spec: Record<string, unknown>; local: Record<string, string> } {
  const local: Record<string, string> = {};
  const env: Record<string, string> = {};
  for (const line of linesOf(d.env)) {
    const eq = line.indexOf('=');
    if (eq <= 0) local.env = `'${line}' must look like KEY=VALUE`;
    else env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  const ports = linesOf(d.ports).flatMap((line) => {
    const r = parsePortFlag(line);
    if (!r.value) local.ports = r.problem ?? 'is not a port mapping';
    return r.value ? [r.value] : [];
  });
  const mounts = linesOf(d.mounts).flatMap((line) => {
    const r = parseMountFlag(line);
    if (!r.value) local.mounts = r.problem ?? 'is not a mount';
    return r.value ? [r.value] : [];
  });
  const num = (v: string, field: string, whole: boolean) => {
    if (v.trim() === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || (whole && !Number.isInteger(n))) local[field] = whole ? 'must be a whole number' : 'must be a number';
    return n;
  };
  const memoryMB = num(d.memoryMB, 'memoryMB', true);
  const cpus = num(d.cpus, 'cpus', false);
  const cpuShares = num(d.cpuShares, 'cpuShares', true);
  return {
    spec: {
      driver: 'container',
      name: d.name,
      image: d.image,
      ...(d.cmd ? { cmd: d.cmd } : {}),
      args: d.args.split('\n').filter((l) => l !== ''),
      env,
      ...(d.workdir ? { workdir: d.workdir } : {}),
      ports,
      mounts,
      ...(d.network ? { network: d.network } : {}),
      ...(d.restart !== 'no' ? { restart: { policy: d.restart } } : {}),
      ...(memoryMB !== undefined ? { memoryMB } : {}),
      ...(cpus !== undefined ? { cpus } : {}),
      ...(cpuShares !== undefined ? { cpuShares } : {}),
      start: d.start,
    },
    local,
  };
}

/** A field's error: the schema speaks of `ports.0.host`; the form has one box for all ports. */
function byBox(errors: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, message] of Object.entries(errors)) {
    const [box = '', ...rest] = path.split('.');
    const listed = ['args', 'ports', 'mounts'].includes(box) && rest.length > 0;
    out[box] ??= listed ? `line ${Number(rest[0]) + 1}${rest[1] ? ` (${rest[1]})` : ''}: ${message}` : message;
  }
  return out;
}

/**
 * Create a Docker container. The image comes from the engine's local images; every field
 * is checked as you type with the same schema the core applies.
 */
export function CreateContainer() {
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [images, setImages] = useState<ImageInfo[] | undefined>();
  const [imagesError, setImagesError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [importing, setImporting] = useState(false);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let live = true;
    client.call('images.list', { driver: 'container' }).then(
      (list) => live && setImages(list),
      (e: unknown) => live && setImagesError((e as Error).message),
    );
    return () => {
      live = false;
    };
  }, [reload]);

  const { spec, local } = toSpec(draft);
  const errors: Record<string, string> = { ...byBox(fieldErrors(containerCreateSchema, spec)), ...local, ...serverErrors };
  const shown = (f: string) => (touched[f] ? errors[f] : undefined);
  const set = (f: keyof Draft) => (e: { target: { value: string } }) => {
    setDraft({ ...draft, [f]: e.target.value });
    setTouched({ ...touched, [f]: true });
    const { [f]: _cleared, ...rest } = serverErrors;
    setServerErrors(rest);
  };
  const refs = (images ?? []).flatMap((i) => i.refs).sort();

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setTouched(Object.fromEntries(Object.keys(EMPTY).map((k) => [k, true])));
    if (Object.keys(errors).length) return;
    setBusy(true);
    try {
      const w = await client.call('workloads.create', spec as never);
      useWorkloads.getState().upsert(w);
      notify('info', `${w.name} created`, w.id);
      go({ screen: 'workload', id: w.id });
    } catch (err) {
      if (err instanceof RemoteError && err.field) setServerErrors({ [err.field.split('.')[0]!]: err.message.replace(/^[\w.]+: /, '') });
      else notify('error', `Create failed: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="screen">
      <header className="screen-head">
        <h1>New container</h1>
      </header>
      <form className="form" onSubmit={(e) => void submit(e)} noValidate data-testid="create-container-form">
        <Field name="name" label="Name" error={shown('name')} hint="The container's name in Docker too (docker ps)">
          <input value={draft.name} onChange={set('name')} autoFocus data-testid="field-name" />
        </Field>
        <Field name="image" label="Image" error={shown('image') ?? imagesError} hint={images && refs.length === 0 ? 'No local images: import one first (novacron images import)' : 'From the engine’s local images'}>
          <select value={draft.image} onChange={set('image')} className="mono" data-testid="field-image" disabled={!images}>
            <option value="">{images ? 'Choose an image…' : 'Loading images…'}</option>
            {refs.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <button type="button" className="link-button" onClick={() => setImporting(!importing)} data-testid="import-toggle">
            {importing ? 'Hide the import' : 'Or import one from a file…'}
          </button>
        </Field>
        {importing && (
          <ImageImport
            driver="container"
            onImported={(ref) => {
              setReload(reload + 1);
              setDraft((d) => ({ ...d, image: ref }));
              setTouched((t) => ({ ...t, image: true }));
              setImporting(false);
              notify('info', `Image ${ref} imported`);
            }}
          />
        )}
        <Field name="cmd" label="Command" error={shown('cmd')} hint="Leave empty for the image's own command">
          <input value={draft.cmd} onChange={set('cmd')} className="mono" placeholder="sh" data-testid="field-cmd" />
        </Field>
        <Field name="args" label="Arguments (one per line)" error={shown('args')}>
          <textarea value={draft.args} onChange={set('args')} rows={2} className="mono" data-testid="field-args" />
        </Field>
        <Field name="env" label="Environment (KEY=VALUE per line)" error={shown('env')}>
          <textarea value={draft.env} onChange={set('env')} rows={2} className="mono" data-testid="field-env" />
        </Field>
        <Field name="workdir" label="Working directory" error={shown('workdir')}>
          <input value={draft.workdir} onChange={set('workdir')} className="mono" placeholder="/" data-testid="field-workdir" />
        </Field>
        <div className="row">
          <Field name="ports" label="Ports (HOST:CONTAINER per line, /udp for UDP)" error={shown('ports')}>
            <textarea value={draft.ports} onChange={set('ports')} rows={2} className="mono" placeholder="8080:80" data-testid="field-ports" />
          </Field>
          <Field name="mounts" label="Mounts (SRC:DST[:ro] per line)" error={shown('mounts')} hint="/host/dir for a bind mount, a name for a volume">
            <textarea value={draft.mounts} onChange={set('mounts')} rows={2} className="mono" placeholder="data:/var/lib/app" data-testid="field-mounts" />
          </Field>
        </div>
        <div className="row">
          <Field name="network" label="Network" error={shown('network')} hint="bridge when empty; host, none or a user network">
            <input value={draft.network} onChange={set('network')} className="mono" data-testid="field-network" />
          </Field>
          <Field name="restart" label="Restart policy" error={shown('restart')}>
            <select value={draft.restart} onChange={set('restart')} data-testid="field-restart">
              {RESTART_POLICIES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <div className="row">
          <Field name="memoryMB" label="Memory limit (MiB)" error={shown('memoryMB')}>
            <input value={draft.memoryMB} onChange={set('memoryMB')} inputMode="numeric" data-testid="field-memoryMB" />
          </Field>
          <Field name="cpus" label="CPU limit (CPUs)" error={shown('cpus')}>
            <input value={draft.cpus} onChange={set('cpus')} inputMode="decimal" placeholder="0.5" data-testid="field-cpus" />
          </Field>
          <Field name="cpuShares" label="CPU shares" error={shown('cpuShares')} hint="Relative weight, 1024 by default">
            <input value={draft.cpuShares} onChange={set('cpuShares')} inputMode="numeric" data-testid="field-cpuShares" />
          </Field>
        </div>
        <label className="field">
          <span>
            <input type="checkbox" checked={draft.start} onChange={(e) => setDraft({ ...draft, start: e.target.checked })} data-testid="field-start" /> Start it now
          </span>
        </label>
        <div className="row end">
          <button type="button" onClick={() => go({ screen: 'workloads' })}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy} data-testid="create-submit">
            {busy ? 'Creating…' : 'Create'}
          </button>
        </div>
      </form>
    </section>
  );
}
