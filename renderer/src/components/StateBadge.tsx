import type { WorkloadState } from '../../../shared/model.js';

export function StateBadge({ state, testId }: { state: WorkloadState; testId?: string }) {
  return (
    <span className={`badge state-${state}`} data-testid={testId}>
      {state}
    </span>
  );
}
