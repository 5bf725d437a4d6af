import { containerCreateSchema, parseMountFlag, parsePortFlag, RESTART_POLICIES } from '../../../shared/drivers/container.js';
import { fieldErrors } from '../../../shared/validate.js';
import { Field } from '../components/Field.js';
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
  workdir: string;
  ports: string;
  mounts: string;
  network: string;
  restart: string;
  memoryMB: string;
  cpus: string;
  cpuShares: string;
  start: boolean;
};

const EMPTY: Draft = { name: '', image: '', cmd: '', args: '', env: '', workdir: '', ports: '', mounts: '', network: '', restart: 'no', memoryMB: '', cpus: '', cpuShares: '', start: true };

/**
 * The form's text → the contract's spec, plus the problems only the form can see (a line
 * that is not KEY=VALUE, a port that is not HOST:CONTAINER). Ports and mounts use the
 * CLI's own spelling, read by the same shared parsers.
 */
function toSpec(d: Draft): Built {
  const local: Record<string, string> = {};
  const env = pairsOf(d.env, 'env', local);
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
  const memoryMB = optionalNumber(d.memoryMB, 'memoryMB', true, local);
  const cpus = optionalNumber(d.cpus, 'cpus', false, local);
  const cpuShares = optionalNumber(d.cpuShares, 'cpuShares', true, local);
  return {
    spec: {
      driver: 'container',
      name: d.name,
      image: d.image,
      ...given('cmd', d.cmd),
      args: argsOf(d.args),
      env,
      ...given('workdir', d.workdir),
      ports,
      mounts,
      ...given('network', d.network),
      ...(d.restart !== 'no' ? { restart: { policy: d.restart } } : {}),
      ...given('memoryMB', memoryMB),
      ...given('cpus', cpus),
      ...given('cpuShares', cpuShares),
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
  const form = useCreateForm({ empty: EMPTY, build: toSpec, check: (spec) => byBox(fieldErrors(containerCreateSchema, spec)) });
  const images = useLocalImages('container');
  const importer = useImageImport('container', (ref) => {
    images.reload();
    form.setDraft((d) => ({ ...d, image: ref }));
    form.touch('image');
  });
  const refs = (images.refs ?? []).slice().sort();
  const image = form.box('image');
  const restart = form.box('restart');

  return (
    <CreateScreen title="New container" testId="create-container-form" busy={form.busy} onSubmit={form.onSubmit}>
      <TextInput box={form.box('name')} label="Name" hint="The container's name in Docker too (docker ps)" autoFocus />
      <Field name="image" label="Image" error={image.error ?? images.error} hint={images.refs && refs.length === 0 ? 'No local images: import one first (novacron images import)' : 'From the engine’s local images'}>
        <select value={image.value} onChange={image.onChange} className="mono" data-testid="field-image" disabled={!images.refs}>
          <option value="">{images.refs ? 'Choose an image…' : 'Loading images…'}</option>
          <Options values={refs} />
        </select>
        {importer.toggle}
      </Field>
      {importer.panel}
      <TextInput box={form.box('cmd')} label="Command" hint="Leave empty for the image's own command" mono placeholder="sh" />
      <ArgsAndEnv args={form.box('args')} env={form.box('env')} argRows={2} />
      <TextInput box={form.box('workdir')} label="Working directory" mono placeholder="/" />
      <div className="row">
        <LinesInput box={form.box('ports')} label="Ports (HOST:CONTAINER per line, /udp for UDP)" placeholder="8080:80" />
        <LinesInput box={form.box('mounts')} label="Mounts (SRC:DST[:ro] per line)" hint="/host/dir for a bind mount, a name for a volume" placeholder="data:/var/lib/app" />
      </div>
      <div className="row">
        <TextInput box={form.box('network')} label="Network" hint="bridge when empty; host, none or a user network" mono />
        <Field name="restart" label="Restart policy" error={restart.error}>
          <select value={restart.value} onChange={restart.onChange} data-testid="field-restart">
            <Options values={RESTART_POLICIES} />
          </select>
        </Field>
      </div>
      <LimitsRow memory={form.box('memoryMB')}>
        <TextInput box={form.box('cpus')} label="CPU limit (CPUs)" inputMode="decimal" placeholder="0.5" />
        <TextInput box={form.box('cpuShares')} label="CPU shares" hint="Relative weight, 1024 by default" inputMode="numeric" />
      </LimitsRow>
      <label className="field">
        <span>
          <input type="checkbox" checked={form.draft.start} onChange={(e) => form.setDraft({ ...form.draft, start: e.target.checked })} data-testid="field-start" /> Start it now
        </span>
      </label>
    </CreateScreen>
  );
}
