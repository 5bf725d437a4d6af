import { kvmCreateSchema } from '../../../shared/drivers/kvm.js';
import { libvirtCreateSchema } from '../../../shared/drivers/libvirt.js';
import type { WorkloadInfo } from '../../../shared/model.js';
import { fieldErrors } from '../../../shared/validate.js';
import { Field } from '../components/Field.js';
import { useDrivers } from '../stores/drivers.js';
import { useWorkloads } from '../stores/workloads.js';
import { client } from '../transport/client.js';
import { LinesInput, TextInput } from './create/boxes.js';
import { CreateScreen } from './create/CreateScreen.js';
import { linesOf } from './create/draft-text.js';
import { useCreateForm, type Built } from './create/useCreateForm.js';

type DiskKind = 'new' | 'existing' | 'clone' | 'none';
/** The drivers that take this form: NovaCron's own QEMU, and libvirt, which defines a domain from the same fields. */
type VmDriver = 'kvm' | 'libvirt';
const SCHEMAS = { kvm: kvmCreateSchema, libvirt: libvirtCreateSchema };

// A type, not an interface: only a type alias is a Record the form hook accepts.
type Draft = {
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
};

const EMPTY: Draft = { name: '', memoryMB: '512', cpus: '1', diskKind: 'new', disk: '10', iso: '', kernel: '', initrd: '', append: '', accel: 'auto', machine: 'pc', portForwards: '', start: true };

/** The form's text → the contract's spec; what cannot even be parsed is a local error on its field. */
function toSpec(d: Draft, driver: VmDriver): Built {
  const local: Record<string, string> = {};
  const int = (v: string, field: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n)) local[field] = 'must be a whole number';
    return n;
  };
  const disks =
    d.diskKind === 'none' ? [] : d.diskKind === 'new' ? [{ sizeGB: Number(d.disk) }] : d.diskKind === 'existing' ? [{ path: d.disk }] : [{ base: d.disk }];
  const portForwards = linesOf(d.portForwards).map((l) => {
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
      // A QEMU VM is created and started in one operation; a libvirt domain is started after its create.
      ...(driver === 'kvm' && d.start ? { start: true } : {}),
    },
    local,
  };
}

/** "disks.0.sizeGB" → the field that shows it; the disk kind's edits count as the disk box's too. */
const boxOf = (path: string) => (path.startsWith('disk') ? 'disk' : path.split('.')[0]!);

/** Errors on the schema's paths, the first for each box. */
function byBox(errors: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(errors)) out[boxOf(k)] ??= v;
  return out;
}

/** The start the form offers for a libvirt domain, after its create; the button says which step is running. */
async function startIfAsked(w: WorkloadInfo, draft: Draft, step: (label: string) => void): Promise<WorkloadInfo> {
  if (!draft.start) return w;
  step('Starting…');
  const started = await client.call('workloads.start', { id: w.id });
  useWorkloads.getState().upsert(started);
  return started;
}

/**
 * Create a QEMU VM, or a libvirt domain from the same form. Checked as you type with the
 * contract's own schema; what only the core knows (the file exists, the size fits the
 * host) comes back onto the field it names.
 */
export function CreateVm({ driver = 'kvm' }: { driver?: VmDriver }) {
  const accelHere = useDrivers((s) => s.byId[driver]?.details?.accelerator);
  const form = useCreateForm({
    empty: EMPTY,
    build: (d) => toSpec(d, driver),
    check: (spec) => byBox(fieldErrors(SCHEMAS[driver], spec)),
    boxOf,
    serverPrefix: /^((kvm|libvirt): )?[\w.]+: /,
    ...(driver === 'libvirt' ? { afterCreate: startIfAsked } : {}),
  });
  const { draft } = form;
  const accel = form.box('accel');

  const diskHint = { new: 'Size of a new qcow2 disk, in GiB', existing: 'An existing image, used in place (never deleted by NovaCron)', clone: 'A base image: the VM gets a linked clone of it', none: '' }[draft.diskKind];
  return (
    <CreateScreen title={driver === 'libvirt' ? 'New libvirt domain' : 'New virtual machine'} testId="create-vm-form" busy={form.busy} onSubmit={form.onSubmit}>
      <TextInput box={form.box('name')} label="Name" hint="Letters, digits, _ . - (at most 63)" autoFocus />
      <div className="row">
        <TextInput box={form.box('memoryMB')} label="Memory (MiB)" inputMode="numeric" />
        <TextInput box={form.box('cpus')} label="vCPUs" inputMode="numeric" />
      </div>
      <div className="row">
        <Field name="diskKind" label="Disk">
          <select value={draft.diskKind} onChange={form.set('diskKind')} data-testid="field-diskKind">
            <option value="new">New qcow2 disk</option>
            <option value="existing">Existing image</option>
            <option value="clone">Linked clone of a base image</option>
            <option value="none">No disk</option>
          </select>
        </Field>
        {draft.diskKind !== 'none' && <TextInput box={form.box('disk')} label={draft.diskKind === 'new' ? 'Size (GiB)' : 'Path'} hint={diskHint} mono />}
      </div>
      {draft.diskKind === 'none' && form.shown('disk') && (
        <span className="field-error" role="alert" data-testid="error-disk">
          {form.shown('disk')}
        </span>
      )}
      <TextInput box={form.box('iso')} label="ISO image (boots from CD)" mono />
      <div className="row">
        <TextInput box={form.box('kernel')} label="Kernel" mono />
        <TextInput box={form.box('initrd')} label="Initrd" mono />
      </div>
      <TextInput box={form.box('append')} label="Kernel command line" mono placeholder="console=ttyS0" />
      <div className="row">
        <Field name="accel" label="Accelerator" error={accel.error} hint={accelHere ? `auto here: ${accelHere}` : ''}>
          <select value={accel.value} onChange={accel.onChange} data-testid="field-accel">
            <option value="auto">auto</option>
            <option value="kvm">kvm</option>
            <option value="tcg">tcg (emulation)</option>
          </select>
        </Field>
        <TextInput box={form.box('machine')} label="Machine type" mono />
      </div>
      <LinesInput box={form.box('portForwards')} label="Port forwards (HOSTPORT:GUESTPORT per line, on 127.0.0.1)" />
      <label className="row">
        <input type="checkbox" checked={draft.start} onChange={(e) => form.setDraft({ ...draft, start: e.target.checked })} data-testid="field-start" /> Start it now
      </label>
    </CreateScreen>
  );
}
