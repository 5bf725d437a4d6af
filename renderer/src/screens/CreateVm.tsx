import { useState } from 'react';
import { kvmCreateSchema } from '../../../shared/drivers/kvm.js';
import { libvirtCreateSchema } from '../../../shared/drivers/libvirt.js';
import { RemoteError } from '../../../shared/contract/client.js';
import { fieldErrors } from '../../../shared/validate.js';
import { Field } from '../components/Field.js';
import { go } from '../router.js';
import { useDrivers } from '../stores/drivers.js';
import { notify } from '../stores/notices.js';
import { useWorkloads } from '../stores/workloads.js';
import { client } from '../transport/client.js';

type DiskKind = 'new' | 'existing' | 'clone' | 'none';
/** The drivers that take this form: NovaCron's own QEMU, and libvirt, which defines a domain from the same fields. */
type VmDriver = 'kvm' | 'libvirt';
const SCHEMAS = { kvm: kvmCreateSchema, libvirt: libvirtCreateSchema };

interface Draft {
  name: string;
  memoryMB: string;
  cpus: string;
  diskKind: DiskKind;
  disk: string;
  iso: string;
  kernel: string;
  initrd: string;
  append: string;
  accel: string;
  machine: string;
  portForwards: string;
  start: boolean;
}

const EMPTY: Draft = { name: '', memoryMB: '512', cpus: '1', diskKind: 'new', disk: '10', iso: '', kernel: '', initrd: '', append: '', accel: 'auto', machine: 'pc', portForwards: '', start: true };

/** The form's text → the contract's spec; what cannot even be parsed is a local error on its field. */
function toSpec(d: Draft, driver: VmDriver): { spec: Record<string, unknown>; local: Record<string, string> } {
  const local: Record<string, string> = {};
  const int = (v: string, field: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n)) local[field] = 'must be a whole number';
    return n;
  };
  const disks =
    d.diskKind === 'none' ? [] : d.diskKind === 'new' ? [{ sizeGB: Number(d.disk) }] : d.diskKind === 'existing' ? [{ path: d.disk }] : [{ base: d.disk }];
  const portForwards = d.portForwards
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(l);
      if (!m) local.portForwards = `'${l}' must look like HOSTPORT:GUESTPORT`;
      return m ? { hostPort: Number(m[1]), guestPort: Number(m[2]), ...(m[3] ? { protocol: m[3] } : {}) } : { hostPort: 0, guestPort: 0 };
    });
  const opt = (k: 'iso' | 'kernel' | 'initrd' | 'append') => (d[k].trim() ? { [k]: d[k].trim() } : {});
  return {
    spec: {
      driver,
      name: d.name,
      memoryMB: int(d.memoryMB, 'memoryMB'),
      cpus: int(d.cpus, 'cpus'),
      disks,
      ...opt('iso'),
      ...opt('kernel'),
      ...opt('initrd'),
      ...opt('append'),
      accel: d.accel,
      machine: d.machine,
      portForwards,
    },
    local,
  };
}

/** "disks.0.sizeGB" → the field that shows it. */
const fieldOf = (path: string) => (path.startsWith('disks') ? 'disk' : path.split('.')[0]!);

/**
 * Create a QEMU VM, or a libvirt domain from the same form. Checked as you type with the
 * contract's own schema; what only the core knows (the file exists, the size fits the
 * host) comes back onto the field it names.
 */
export function CreateVm({ driver = 'kvm' }: { driver?: VmDriver }) {
  const accelHere = useDrivers((s) => s.byId[driver]?.details?.accelerator);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<string | undefined>();
  const { spec, local } = toSpec(draft, driver);
  const errors: Record<string, string> = {};
  for (const [k, v] of Object.entries(fieldErrors(SCHEMAS[driver], spec))) errors[fieldOf(k)] ??= v;
  Object.assign(errors, local, serverErrors);
  const shown = (f: string) => (touched[f] ? errors[f] : undefined);
  const set = (f: keyof Draft) => (e: { target: { value: string } }) => {
    setDraft({ ...draft, [f]: e.target.value });
    setTouched({ ...touched, [f === 'diskKind' ? 'disk' : f]: true });
    const { [f === 'diskKind' ? 'disk' : f]: _cleared, ...rest } = serverErrors;
    setServerErrors(rest);
  };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setTouched(Object.fromEntries(Object.keys(EMPTY).map((k) => [k, true])));
    if (Object.keys(errors).length) return;
    setBusy('Creating…');
    try {
      let w = await client.call('workloads.create', spec as never);
      useWorkloads.getState().upsert(w);
      if (draft.start) {
        setBusy('Starting…');
        w = await client.call('workloads.start', { id: w.id });
        useWorkloads.getState().upsert(w);
      }
      notify('info', `${w.name} created`, w.id);
      go({ screen: 'workload', id: w.id });
    } catch (err) {
      if (err instanceof RemoteError && err.field) setServerErrors({ [fieldOf(err.field)]: err.message.replace(/^((kvm|libvirt): )?[\w.]+: /, '') });
      else notify('error', `Create failed: ${(err as Error).message}`);
    } finally {
      setBusy(undefined);
    }
  };

  const diskHint = { new: 'Size of a new qcow2 disk, in GiB', existing: 'An existing image, used in place (never deleted by NovaCron)', clone: 'A base image: the VM gets a linked clone of it', none: '' }[draft.diskKind];
  return (
    <section className="screen">
      <header className="screen-head">
        <h1>{driver === 'libvirt' ? 'New libvirt domain' : 'New virtual machine'}</h1>
      </header>
      <form className="form" onSubmit={(e) => void submit(e)} noValidate data-testid="create-vm-form">
        <Field name="name" label="Name" error={shown('name')} hint="Letters, digits, _ . - (at most 63)">
          <input value={draft.name} onChange={set('name')} autoFocus data-testid="field-name" />
        </Field>
        <div className="row">
          <Field name="memoryMB" label="Memory (MiB)" error={shown('memoryMB')}>
            <input value={draft.memoryMB} onChange={set('memoryMB')} inputMode="numeric" data-testid="field-memoryMB" />
          </Field>
          <Field name="cpus" label="vCPUs" error={shown('cpus')}>
            <input value={draft.cpus} onChange={set('cpus')} inputMode="numeric" data-testid="field-cpus" />
          </Field>
        </div>
        <div className="row">
          <Field name="diskKind" label="Disk">
            <select value={draft.diskKind} onChange={set('diskKind')} data-testid="field-diskKind">
              <option value="new">New qcow2 disk</option>
              <option value="existing">Existing image</option>
              <option value="clone">Linked clone of a base image</option>
              <option value="none">No disk</option>
            </select>
          </Field>
          {draft.diskKind !== 'none' && (
            <Field name="disk" label={draft.diskKind === 'new' ? 'Size (GiB)' : 'Path'} error={shown('disk')} hint={diskHint}>
              <input value={draft.disk} onChange={set('disk')} className="mono" data-testid="field-disk" />
            </Field>
          )}
        </div>
        {draft.diskKind === 'none' && shown('disk') && <span className="field-error" role="alert" data-testid="error-disk">{shown('disk')}</span>}
        <Field name="iso" label="ISO image (boots from CD)" error={shown('iso')}>
          <input value={draft.iso} onChange={set('iso')} className="mono" data-testid="field-iso" />
        </Field>
        <div className="row">
          <Field name="kernel" label="Kernel" error={shown('kernel')}>
            <input value={draft.kernel} onChange={set('kernel')} className="mono" data-testid="field-kernel" />
          </Field>
          <Field name="initrd" label="Initrd" error={shown('initrd')}>
            <input value={draft.initrd} onChange={set('initrd')} className="mono" data-testid="field-initrd" />
          </Field>
        </div>
        <Field name="append" label="Kernel command line" error={shown('append')}>
          <input value={draft.append} onChange={set('append')} className="mono" placeholder="console=ttyS0" data-testid="field-append" />
        </Field>
        <div className="row">
          <Field name="accel" label="Accelerator" error={shown('accel')} hint={accelHere ? `auto here: ${accelHere}` : ''}>
            <select value={draft.accel} onChange={set('accel')} data-testid="field-accel">
              <option value="auto">auto</option>
              <option value="kvm">kvm</option>
              <option value="tcg">tcg (emulation)</option>
            </select>
          </Field>
          <Field name="machine" label="Machine type" error={shown('machine')}>
            <input value={draft.machine} onChange={set('machine')} className="mono" data-testid="field-machine" />
          </Field>
        </div>
        <Field name="portForwards" label="Port forwards (HOSTPORT:GUESTPORT per line, on 127.0.0.1)" error={shown('portForwards')}>
          <textarea value={draft.portForwards} onChange={set('portForwards')} rows={2} className="mono" data-testid="field-portForwards" />
        </Field>
        <label className="row">
          <input type="checkbox" checked={draft.start} onChange={(e) => setDraft({ ...draft, start: e.target.checked })} data-testid="field-start" /> Start it now
        </label>
        <div className="row end">
          <button type="button" onClick={() => go({ screen: 'workloads' })}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy !== undefined} data-testid="create-submit">
            {busy ?? 'Create'}
          </button>
        </div>
      </form>
    </section>
  );
}
