import { useState } from 'react';
import { processCreateSchema } from '../../../shared/drivers/process.js';
import { fieldErrors } from '../../../shared/validate.js';
import { RemoteError } from '../../../shared/contract/client.js';
import { Field } from '../components/Field.js';
import { client } from '../transport/client.js';
import { notify } from '../stores/notices.js';
import { useWorkloads } from '../stores/workloads.js';
import { go } from '../router.js';

interface Draft {
  name: string;
  cmd: string;
  args: string;
  env: string;
  cwd: string;
  memoryMB: string;
  cpuPercent: string;
}

const EMPTY: Draft = { name: '', cmd: '', args: '', env: '', cwd: '', memoryMB: '', cpuPercent: '' };

/** The form's text → the contract's spec. Lines are arguments; KEY=VALUE lines are the environment. */
function toSpec(d: Draft): { spec: Record<string, unknown>; local: Record<string, string> } {
  const local: Record<string, string> = {};
  const env: Record<string, string> = {};
  for (const line of d.env.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const eq = line.indexOf('=');
    if (eq <= 0) local.env = `'${line}' must look like KEY=VALUE`;
    else env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  const num = (v: string, field: string) => {
    if (v.trim() === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) local[field] = 'must be a whole number';
    return n;
  };
  const memoryMB = num(d.memoryMB, 'memoryMB');
  const cpuPercent = num(d.cpuPercent, 'cpuPercent');
  return {
    spec: {
      driver: 'process',
      name: d.name,
      cmd: d.cmd,
      args: d.args.split('\n').filter((l) => l !== ''),
      env,
      ...(d.cwd ? { cwd: d.cwd } : {}),
      ...(memoryMB !== undefined ? { memoryMB } : {}),
      ...(cpuPercent !== undefined ? { cpuPercent } : {}),
    },
    local,
  };
}

/**
 * Create a process workload. Fields are checked as you type with the contract's own
 * schema; what only the core can know (does the program exist?) comes back from it and
 * lands on the field it names.
 */
export function CreateProcess() {
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const { spec, local } = toSpec(draft);
  const errors: Record<string, string> = { ...fieldErrors(processCreateSchema, spec), ...local, ...serverErrors };
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
        <h1>New process</h1>
      </header>
      <form className="form" onSubmit={(e) => void submit(e)} noValidate data-testid="create-process-form">
        <Field name="name" label="Name" error={shown('name')} hint="Letters, digits, _ . - (at most 63)">
          <input value={draft.name} onChange={set('name')} autoFocus data-testid="field-name" />
        </Field>
        <Field name="cmd" label="Program" error={shown('cmd')} hint="An absolute path, or a program on PATH (sleep, python3…)">
          <input value={draft.cmd} onChange={set('cmd')} className="mono" data-testid="field-cmd" />
        </Field>
        <Field name="args" label="Arguments (one per line)" error={shown('args')}>
          <textarea value={draft.args} onChange={set('args')} rows={3} className="mono" data-testid="field-args" />
        </Field>
        <Field name="env" label="Environment (KEY=VALUE per line)" error={shown('env')}>
          <textarea value={draft.env} onChange={set('env')} rows={2} className="mono" data-testid="field-env" />
        </Field>
        <Field name="cwd" label="Working directory" error={shown('cwd')}>
          <input value={draft.cwd} onChange={set('cwd')} className="mono" placeholder="/" data-testid="field-cwd" />
        </Field>
        <div className="row">
          <Field name="memoryMB" label="Memory limit (MiB)" error={shown('memoryMB')}>
            <input value={draft.memoryMB} onChange={set('memoryMB')} inputMode="numeric" data-testid="field-memoryMB" />
          </Field>
          <Field name="cpuPercent" label="CPU limit (% of a core)" error={shown('cpuPercent')}>
            <input value={draft.cpuPercent} onChange={set('cpuPercent')} inputMode="numeric" data-testid="field-cpuPercent" />
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
