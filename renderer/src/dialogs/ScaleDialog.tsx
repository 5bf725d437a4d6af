import { useState } from 'react';
import type { WorkloadInfo } from '../../../shared/model.js';
import { memoryMbSchema } from '../../../shared/schemas.js';
import { Field } from '../components/Field.js';
import { Modal } from '../components/Modal.js';
import { notify } from '../stores/notices.js';
import { track } from '../stores/operations.js';
import { useWorkloads } from '../stores/workloads.js';

/** memoryMB and cpus, checked as the contract checks them (workloads.scale); empty means unchanged. */
function check(memory: string, cpus: string): { input: { memoryMB?: number; cpus?: number }; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const input: { memoryMB?: number; cpus?: number } = {};
  if (memory.trim()) {
    const r = memoryMbSchema.safeParse(Number(memory));
    if (r.success) input.memoryMB = r.data;
    else errors.memory = r.error.issues[0]?.message ?? 'is invalid';
  }
  if (cpus.trim()) {
    const n = Number(cpus);
    if (!Number.isFinite(n) || n <= 0) errors.cpus = 'must be a positive number';
    else if (n > 1024) errors.cpus = 'must be at most 1024';
    else input.cpus = n;
  }
  if (!memory.trim() && !cpus.trim()) errors.memory = 'give memory, CPUs or both';
  return { input, errors };
}

export function ScaleDialog({ w, onClose }: { w: WorkloadInfo; onClose: () => void }) {
  const [memory, setMemory] = useState('');
  const [cpus, setCpus] = useState('');
  const [busy, setBusy] = useState(false);
  const [touched, setTouched] = useState(false);
  const { input, errors } = check(memory, cpus);
  const apply = async () => {
    setBusy(true);
    try {
      useWorkloads.getState().upsert(await track('workloads.scale', { id: w.id, ...input }, { label: `Scale ${w.name}`, workloadId: w.id }));
      notify('info', `${w.name}: resources changed`, w.id);
      onClose();
    } catch (e) {
      notify('error', `${w.name}: scale failed: ${(e as Error).message}`, w.id);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={`Scale ${w.name}`} onClose={onClose} testId="scale-dialog">
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          setTouched(true);
          if (Object.keys(errors).length === 0) void apply();
        }}
      >
        <p className="muted">{w.summary}</p>
        <div className="row">
          <Field name="scale-memory" label="Memory (MiB)" error={touched || memory ? errors.memory : undefined}>
            <input value={memory} onChange={(e) => setMemory(e.target.value)} inputMode="numeric" data-testid="scale-memory" data-autofocus />
          </Field>
          <Field name="scale-cpus" label="CPUs" error={touched || cpus ? errors.cpus : undefined}>
            <input value={cpus} onChange={(e) => setCpus(e.target.value)} inputMode="decimal" data-testid="scale-cpus" />
          </Field>
        </div>
        <div className="row end">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy} data-testid="scale-apply">
            {busy ? 'Applying…' : 'Apply'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
