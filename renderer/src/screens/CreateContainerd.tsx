import { useEffect, useState } from 'react';
import { containerdCreateSchema, kataCreateSchema, SANDBOX_RUNTIMES } from '../../../shared/drivers/containerd.js';
import { fieldErrors } from '../../../shared/validate.js';
import { RemoteError } from '../../../shared/contract/client.js';
import { Field } from '../components/Field.js';
import { ImageImport } from '../components/ImageImport.js';
import { client } from '../transport/client.js';
import { notify } from '../stores/notices.js';
import { useDrivers } from '../stores/drivers.js';
import { useWorkloads } from '../stores/workloads.js';
import { go } from '../router.js';

interface Draft {
  name: string;
  image: string;
  cmd: string;
  args: string;
  env: string;
  mounts: string;
  labels: string;
  memoryMB: string;
  cpus: string;
  runtime: string;
}

const EMPTY: Draft = { name: '', image: '', cmd: '', args: '', env: '', mounts: '', labels: '', memoryMB: '', cpus: '', runtime: '' };
const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);

/** Errors of list fields (mounts.0.source, env.KEY) shown on the field itself, saying which line. */
function fold(errors: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, message] of Object.entries(errors)) {
    const [top = '', ...rest] = key.split('.');
    const where = rest.length === 0 ? '' : /^\d+$/.test(rest[0]!) ? `line ${Number(rest[0]) + 1}${rest.length > 1 ? ` ${rest.slice(1).join('.')}` : ''}: ` : `${rest.join('.')}: `;
    out[top] ??= `${where}${message}`;
  }
  return out;
}

/** The form's text → the contract's spec; what cannot even be parsed lands in `local`. */
function toSpec(driver: 'containerd' | 'kata-containers', d: Draft): { spec: Record<string, unknown>; local: Record<string, string> } {
  const local: Record<string, string> = {};
  const pairs = (text: string, field: string) => {
    const out: Record<string, string> = {};
    for (const line of lines(text)) {
      const eq = line.indexOf('=');
      if (eq <= 0) local[field] = `'${line}' must look like KEY=VALUE`;
      else out[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return out;
  };
  const mounts = lines(d.mounts).map((line) => {
    const parts = line.split(':');
    const ro = parts.length === 3 && parts[2] === 'ro';
    if (parts.length === 3 && !['ro', 'rw'].includes(parts[2]!)) local.mounts = `'${line}' must end in :ro or :rw, if anything`;
    if (parts.length < 2 || parts.length > 3) local.mounts = `'${line}' must look like SOURCE:TARGET or SOURCE:TARGET:ro`;
    return { source: parts[0] ?? '', target: parts[1] ?? '', ...(ro ? { readOnly: true } : {}) };
  });
  const num = (v: string, field: string, int: boolean) => {
    if (v.trim() === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || (int && !Number.isInteger(n))) local[field] = int ? 'must be a whole number' : 'must be a number';
    return n;
  };
  const memoryMB = num(d.memoryMB, 'memoryMB', true);
  const cpus = num(d.cpus, 'cpus', false);
  return {
    spec: {
      driver,
      name: d.name,
      image: d.image,
      ...(d.cmd ? { cmd: d.cmd } : {}),
      args: d.args.split('\n').filter((l) => l !== ''),
      env: pairs(d.env, 'env'),
      mounts,
      labels: pairs(d.labels, 'labels'),
      ...(memoryMB !== undefined ? { memoryMB } : {}),
      ...(cpus !== undefined ? { cpus } : {}),
      ...(d.runtime ? { runtime: d.runtime } : {}),
    },
    local,
  };
}

/**
 * Create a container on containerd (or a Kata sandbox): an image already imported, a
 * command, and the sandbox runtime, offered as detection found them on the host.
 */
export function CreateContainerd({ driver }: { driver: 'containerd' | 'kata-containers' }) {
  const info = useDrivers((s) => s.byId[driver]);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [images, setImages] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [importing, setImporting] = useState(false);
  const [reload, setReload] = useState(0);
  useEffect(() => {
    client.call('images.list', { driver }).then(
      (list) => setImages(list.flatMap((i) => i.refs)),
      () => setImages([]),
    );
  }, [driver, reload]);
  const offered = (info?.details?.runtimes ?? '').split(',').map((r) => r.trim()).filter((r) => (SANDBOX_RUNTIMES as readonly string[]).includes(r));
  const { spec, local } = toSpec(driver, draft);
  const schema = driver === 'containerd' ? containerdCreateSchema : kataCreateSchema;
  const errors: Record<string, string> = { ...fold(fieldErrors(schema, spec)), ...local, ...serverErrors };
  const shown = (f: string) => (touched[f] ? errors[f] : undefined);
  const set = (f: keyof Draft) => (e: { target: { value: string } }) => {
    setDraft({ ...draft, [f]: e.target.value });
    setTouched({ ...touched, [f]: true });
    const { [f]: _cleared, ...rest } = serverErrors;
    setServerErrors(rest);
  };

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
        <h1>New {info?.name ?? driver} container</h1>
      </header>
      <form className="form" onSubmit={(e) => void submit(e)} noValidate data-testid="create-container-form">
        <Field name="name" label="Name" error={shown('name')} hint="The container's id in containerd: letters, digits, _ . -">
          <input value={draft.name} onChange={set('name')} autoFocus data-testid="field-name" />
        </Field>
        <Field name="image" label="Image" error={shown('image')} hint="Imported with: novacron images import --driver containerd FILE --name REF">
          <input value={draft.image} onChange={set('image')} list="container-images" className="mono" data-testid="field-image" />
          <datalist id="container-images">
            {images.map((i) => (
              <option key={i} value={i} />
            ))}
          </datalist>
          <button type="button" className="link-button" onClick={() => setImporting(!importing)} data-testid="import-toggle">
            {importing ? 'Hide the import' : 'Or import one from a file…'}
          </button>
        </Field>
        {importing && (
          <ImageImport
            driver={driver}
            onImported={(ref) => {
              setReload(reload + 1);
              setDraft((d) => ({ ...d, image: ref }));
              setImporting(false);
              notify('info', `Image ${ref} imported`);
            }}
          />
        )}
        <Field name="runtime" label="Sandbox runtime" error={shown('runtime')} hint="runc: namespaces · runsc: gVisor's user-space kernel · kata: a lightweight VM">
          <select value={draft.runtime} onChange={set('runtime')} data-testid="field-runtime">
            <option value="">default ({driver === 'containerd' ? 'runc' : 'kata'})</option>
            {offered.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </Field>
        <Field name="cmd" label="Program (in the image)" error={shown('cmd')} hint="Leave empty for the image's own command">
          <input value={draft.cmd} onChange={set('cmd')} className="mono" data-testid="field-cmd" />
        </Field>
        <Field name="args" label="Arguments (one per line)" error={shown('args')}>
          <textarea value={draft.args} onChange={set('args')} rows={3} className="mono" data-testid="field-args" />
        </Field>
        <Field name="env" label="Environment (KEY=VALUE per line)" error={shown('env')}>
          <textarea value={draft.env} onChange={set('env')} rows={2} className="mono" data-testid="field-env" />
        </Field>
        <Field name="mounts" label="Bind mounts (SOURCE:TARGET[:ro] per line)" error={shown('mounts')}>
          <textarea value={draft.mounts} onChange={set('mounts')} rows={2} className="mono" data-testid="field-mounts" />
        </Field>
        <Field name="labels" label="Labels (KEY=VALUE per line)" error={shown('labels')}>
          <textarea value={draft.labels} onChange={set('labels')} rows={2} className="mono" data-testid="field-labels" />
        </Field>
        <div className="row">
          <Field name="memoryMB" label="Memory limit (MiB)" error={shown('memoryMB')}>
            <input value={draft.memoryMB} onChange={set('memoryMB')} inputMode="numeric" data-testid="field-memoryMB" />
          </Field>
          <Field name="cpus" label="CPU limit (cores)" error={shown('cpus')}>
            <input value={draft.cpus} onChange={set('cpus')} inputMode="decimal" data-testid="field-cpus" />
          </Field>
        </div>
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
