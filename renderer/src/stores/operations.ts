import { create } from 'zustand';
import type { MethodInput, MethodName, MethodOutput } from '../../../shared/contract/index.js';
import type { Progress } from '../../../shared/model.js';
import { client } from '../transport/client.js';

export interface Operation {
  op: string;
  method: MethodName;
  workloadId?: string;
  label: string;
  progress?: Progress;
  startedAt: number;
}

interface OperationsState {
  running: Record<string, Operation>;
}

/** Long operations this page started, with the progress the core pushes for each (by op id). */
export const useOperations = create<OperationsState>(() => ({ running: {} }));

/** Op ids this page made: the event log's copy of their results is not toasted twice. */
export const ownOps = new Set<string>();

const newOp = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`);

/**
 * Call a method under an op id of our own, so its progress can be shown and it can be
 * cancelled (operations.cancel) while it runs.
 */
export async function track<M extends MethodName>(method: M, input: MethodInput<M>, meta: { label: string; workloadId?: string; onOp?: (op: string) => void }): Promise<MethodOutput<M>> {
  const op = newOp();
  ownOps.add(op);
  if (ownOps.size > 500) ownOps.delete(ownOps.values().next().value!);
  const entry: Operation = { op, method, label: meta.label, startedAt: Date.now(), ...(meta.workloadId ? { workloadId: meta.workloadId } : {}) };
  useOperations.setState((s) => ({ running: { ...s.running, [op]: entry } }));
  meta.onOp?.(op);
  try {
    return await client.call(method, input, { op });
  } finally {
    useOperations.setState((s) => {
      const { [op]: _done, ...rest } = s.running;
      return { running: rest };
    });
  }
}

export function onProgress(p: Progress): void {
  const cur = useOperations.getState().running[p.op];
  if (!cur) return;
  useOperations.setState((s) => ({ running: { ...s.running, [p.op]: { ...cur, progress: p } } }));
}

export const cancelOperation = (op: string) => client.call('operations.cancel', { op });

export const useOperation = (op: string | undefined) => useOperations((s) => (op ? s.running[op] : undefined));
