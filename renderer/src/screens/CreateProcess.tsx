import { processCreateSchema } from '../../../shared/drivers/process.js';
import { fieldErrors } from '../../../shared/validate.js';
import { ArgsAndEnv, LimitsRow, TextInput } from './create/boxes.js';
import { CreateScreen } from './create/CreateScreen.js';
import { argsOf, given, optionalNumber, pairsOf } from './create/draft-text.js';
import { useCreateForm, type Built } from './create/useCreateForm.js';

// A type, not an interface: only a type alias is a Record the form hook accepts.
type Draft = {
  name: string;
  cmd: string;
  args: string;
  env: string;
  cwd: string;
  memoryMB: string;
  cpuPercent: string;
};

const EMPTY: Draft = { name: '', cmd: '', args: '', env: '', cwd: '', memoryMB: '', cpuPercent: '' };

/** The form's text → the contract's spec. Lines are arguments; KEY=VALUE lines are the environment. */
function toSpec(d: Draft): Built {
  const local: Record<string, string> = {};
  const env = pairsOf(d.env, 'env', local);
  const memoryMB = optionalNumber(d.memoryMB, 'memoryMB', true, local);
  const cpuPercent = optionalNumber(d.cpuPercent, 'cpuPercent', true, local);
  return {
    spec: { driver: 'process', name: d.name, cmd: d.cmd, args: argsOf(d.args), env, ...given('cwd', d.cwd), ...given('memoryMB', memoryMB), ...given('cpuPercent', cpuPercent) },
    local,
  };
}

/**
 * Create a process workload. Fields are checked as you type with the contract's own
 * schema; what only the core can know (does the program exist?) comes back from it and
 * lands on the field it names.
 */
export function CreateProcess() {
  // The schema's paths are shown as they are: every process field is a box of its own.
  const form = useCreateForm({ empty: EMPTY, build: toSpec, check: (spec) => fieldErrors(processCreateSchema, spec) });
  return (
    <CreateScreen title="New process" testId="create-process-form" busy={form.busy} onSubmit={form.onSubmit}>
      <TextInput box={form.box('name')} label="Name" hint="Letters, digits, _ . - (at most 63)" autoFocus />
      <TextInput box={form.box('cmd')} label="Program" hint="An absolute path, or a program on PATH (sleep, python3…)" mono />
      <ArgsAndEnv args={form.box('args')} env={form.box('env')} argRows={3} />
      <TextInput box={form.box('cwd')} label="Working directory" mono placeholder="/" />
      <LimitsRow memory={form.box('memoryMB')}>
        <TextInput box={form.box('cpuPercent')} label="CPU limit (% of a core)" inputMode="numeric" />
      </LimitsRow>
    </CreateScreen>
  );
}
