import { useState, type FormEvent } from 'react';
import { RemoteError } from '../../../../shared/contract/client.js';
import type { WorkloadInfo } from '../../../../shared/model.js';
import { go } from '../../router.js';
import { notify } from '../../stores/notices.js';
import { useWorkloads } from '../../stores/workloads.js';
import { client } from '../../transport/client.js';

export type Errors = Record<string, string>;
export type Draft = Record<string, string | boolean>;
/** The keys of a draft that hold text (every box but the checkboxes). */
export type TextKey<D> = { [K in keyof D]: D[K] extends string ? K : never }[keyof D] & string;

/** The form's text read into the contract's spec, plus what could not even be parsed. */
export interface Built {
  spec: Record<string, unknown>;
  local: Errors;
}

/** What a box needs from the form; components take this, so they need not know the draft's type. */
export interface Box {
  name: string;
  value: string;
  error: string | undefined;
  onChange: (e: { target: { value: string } }) => void;
}

export interface CreateFormOptions<D extends Draft> {
  empty: D;
  build: (draft: D) => Built;
  /** The contract schema's errors for a spec, keyed by the box that shows them. */
  check: (spec: Record<string, unknown>) => Errors;
  /** Which box shows a field path (`disks.0.size` → `disk`); the first segment unless told. */
  boxOf?: (path: string) => string;
  /** The prefix the core puts before a field's message, cut since the box already says which. */
  serverPrefix?: RegExp;
  /** A step after the create (a VM's start), naming itself in the submit button. */
  afterCreate?: (w: WorkloadInfo, draft: D, step: (label: string) => void) => Promise<WorkloadInfo>;
}

const firstSegment = (path: string) => path.split('.')[0]!;

/**
 * A create form's state: the draft, which boxes were touched (errors show only there, so a
 * fresh form is not all red), the schema checked on every keystroke, and the submit that
 * creates the workload, opens it, and puts what the core refused back on its box.
 */
export function useCreateForm<D extends Draft>(o: CreateFormOptions<D>) {
  const boxOf = o.boxOf ?? firstSegment;
  const [draft, setDraft] = useState<D>(o.empty);
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [serverErrors, setServerErrors] = useState<Errors>({});
  const [busy, setBusy] = useState<string | undefined>();
  const { spec, local } = o.build(draft);
  const errors: Errors = { ...o.check(spec), ...local, ...serverErrors };
  const shown = (f: string) => (touched[f] ? errors[f] : undefined);

  const set = (f: TextKey<D>) => (e: { target: { value: string } }) => {
    const box = boxOf(f);
    setDraft((d) => ({ ...d, [f]: e.target.value }));
    setTouched((t) => ({ ...t, [box]: true }));
    // An edit answers the core's complaint about that box; the schema says if it is still wrong.
    setServerErrors(({ [box]: _cleared, ...rest }) => rest);
  };
  const text = (f: TextKey<D>): string => {
    const v = draft[f];
    return typeof v === 'string' ? v : '';
  };
  const box = (f: TextKey<D>): Box => ({ name: f, value: text(f), error: shown(f), onChange: set(f) });
  const touch = (f: string) => setTouched((t) => ({ ...t, [f]: true }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(Object.fromEntries(Object.keys(o.empty).map((k) => [k, true])));
    if (Object.keys(errors).length) return;
    setBusy('Creating…');
    try {
      let w = await client.call('workloads.create', spec as never);
      useWorkloads.getState().upsert(w);
      if (o.afterCreate) w = await o.afterCreate(w, draft, setBusy);
      notify('info', `${w.name} created`, w.id);
      go({ screen: 'workload', id: w.id });
    } catch (err) {
      if (err instanceof RemoteError && err.field) setServerErrors({ [boxOf(err.field)]: err.message.replace(o.serverPrefix ?? /^[\w.]+: /, '') });
      else notify('error', `Create failed: ${(err as Error).message}`);
    } finally {
      setBusy(undefined);
    }
  };

  return { draft, setDraft, shown, set, box, touch, busy, onSubmit: (e: FormEvent) => void submit(e) };
}
