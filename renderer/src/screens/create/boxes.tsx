import type { ReactNode } from 'react';
import { Field } from '../../components/Field.js';
import type { Box } from './useCreateForm.js';

interface BoxProps {
  box: Box;
  label: string;
  hint?: string;
  /** Paths, programs and list syntax read better in monospace. */
  mono?: boolean;
  placeholder?: string;
}

/** A one-line box: `field-<name>` for the tests, its error as `error-<name>` under it. */
export function TextInput({ box, label, hint, mono, placeholder, inputMode, autoFocus }: BoxProps & { inputMode?: 'numeric' | 'decimal'; autoFocus?: boolean }) {
  return (
    <Field name={box.name} label={label} error={box.error} hint={hint}>
      <input value={box.value} onChange={box.onChange} className={mono ? 'mono' : undefined} placeholder={placeholder} inputMode={inputMode} autoFocus={autoFocus} data-testid={`field-${box.name}`} />
    </Field>
  );
}

/** A list box, one entry a line (arguments, KEY=VALUE pairs, ports, mounts); always monospace. */
export function LinesInput({ box, label, hint, placeholder, rows = 2 }: Omit<BoxProps, 'mono'> & { rows?: number }) {
  return (
    <Field name={box.name} label={label} error={box.error} hint={hint}>
      <textarea value={box.value} onChange={box.onChange} rows={rows} className="mono" placeholder={placeholder} data-testid={`field-${box.name}`} />
    </Field>
  );
}

/** The program's arguments and environment, the same two boxes on every form that runs a program. */
export function ArgsAndEnv({ args, env, argRows }: { args: Box; env: Box; argRows: number }) {
  return (
    <>
      <LinesInput box={args} label="Arguments (one per line)" rows={argRows} />
      <LinesInput box={env} label="Environment (KEY=VALUE per line)" />
    </>
  );
}

/** The resource limits row: memory always, then the driver's own CPU boxes. */
export function LimitsRow({ memory, children }: { memory: Box; children: ReactNode }) {
  return (
    <div className="row">
      <TextInput box={memory} label="Memory limit (MiB)" inputMode="numeric" />
      {children}
    </div>
  );
}

/** Cancel and Create; while busy the button names the step under way (Creating…, Starting…). */
export function FormButtons({ busy, onCancel }: { busy: string | undefined; onCancel: () => void }) {
  return (
    <div className="row end">
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" className="primary" disabled={busy !== undefined} data-testid="create-submit">
        {busy ?? 'Create'}
      </button>
    </div>
  );
}
