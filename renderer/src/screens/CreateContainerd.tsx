import { containerdCreateSchema, kataCreateSchema, SANDBOX_RUNTIMES } from '../../../shared/drivers/containerd.js';
import { fieldErrors } from '../../../shared/validate.js';
import { Field } from '../components/Field.js';
import { useDrivers } from '../stores/drivers.js';
import { ArgsAndEnv, LimitsRow, LinesInput, TextInput } from './create/boxes.js';
import { CreateScreen } from './create/CreateScreen.js';
import { argsOf, given, linesOf, optionalNumber, pairsOf } from './create/draft-text.js';
import { useImageImport, useLocalImages } from './create/images.js';
import { useCreateForm, type Built } from './create/useCreateForm.js';
import { Options } from '../components/Options.js';

// A type, not an interface: only a type alias is a Record the form hook accepts.
type Draft = {
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
};

const EMPTY: Draft = { name: '', image: '', cmd: '', args: '', env: '', mounts: '', labels: '', memoryMB: '', cpus: '', runtime: '' };

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
function toSpec(driver: 'containerd' | 'kata-containers', d: Draft): Built {
  const local: Record<string, string> = {};
  const mounts = linesOf(d.mounts).map((line) => {
    const parts = line.split(':');
    const ro = parts.length === 3 && parts[2] === 'ro';
    if (parts.length === 3 && !['ro', 'rw'].includes(parts[2]!)) local.mounts = `'${line}' must end in :ro or :rw, if anything`;
    if (parts.length < 2 || parts.length > 3) local.mounts = `'${line}' must look like SOURCE:TARGET or SOURCE:TARGET:ro`;
    return { source: parts[0] ?? '', target: parts[1] ?? '', ...(ro ? { readOnly: true } : {}) };
  });
  const memoryMB = optionalNumber(d.memoryMB, 'memoryMB', true, local);
  const cpus = optionalNumber(d.cpus, 'cpus', false, local);
  return {
    spec: {
      driver,
      name: d.name,
      image: d.image,
      ...given('cmd', d.cmd),
      args: argsOf(d.args),
      env: pairsOf(d.env, 'env', local),
      mounts,
      labels: pairsOf(d.labels, 'labels', local),
      ...given('memoryMB', memoryMB),
      ...given('cpus', cpus),
      ...given('runtime', d.runtime),
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
  const schema = driver === 'containerd' ? containerdCreateSchema : kataCreateSchema;
  const form = useCreateForm({ empty: EMPTY, build: (d) => toSpec(driver, d), check: (spec) => fold(fieldErrors(schema, spec)) });
  const images = useLocalImages(driver);
  const importer = useImageImport(driver, (ref) => {
    images.reload();
    form.setDraft((d) => ({ ...d, image: ref }));
  });
  const offered = (info?.details?.runtimes ?? '').split(',').map((r) => r.trim()).filter((r) => (SANDBOX_RUNTIMES as readonly string[]).includes(r));
  const image = form.box('image');
  const runtime = form.box('runtime');

  return (
    <CreateScreen title={`New ${info?.name ?? driver} container`} testId="create-container-form" busy={form.busy} onSubmit={form.onSubmit}>
      <TextInput box={form.box('name')} label="Name" hint="The container's id in containerd: letters, digits, _ . -" autoFocus />
      <Field name="image" label="Image" error={image.error} hint="Imported with: novacron images import --driver containerd FILE --name REF">
        <input value={image.value} onChange={image.onChange} list="container-images" className="mono" data-testid="field-image" />
        <datalist id="container-images">
          {(images.refs ?? []).map((i) => (
            <option key={i} value={i} />
          ))}
        </datalist>
        {importer.toggle}
      </Field>
      {importer.panel}
      <Field name="runtime" label="Sandbox runtime" error={runtime.error} hint="runc: namespaces · runsc: gVisor's user-space kernel · kata: a lightweight VM">
        <select value={runtime.value} onChange={runtime.onChange} data-testid="field-runtime">
          <option value="">default ({driver === 'containerd' ? 'runc' : 'kata'})</option>
          <Options values={offered} />
        </select>
      </Field>
      <TextInput box={form.box('cmd')} label="Program (in the image)" hint="Leave empty for the image's own command" mono />
      <ArgsAndEnv args={form.box('args')} env={form.box('env')} argRows={3} />
      <LinesInput box={form.box('mounts')} label="Bind mounts (SOURCE:TARGET[:ro] per line)" />
      <LinesInput box={form.box('labels')} label="Labels (KEY=VALUE per line)" />
      <LimitsRow memory={form.box('memoryMB')}>
        <TextInput box={form.box('cpus')} label="CPU limit (cores)" inputMode="decimal" />
      </LimitsRow>
    </CreateScreen>
  );
}
