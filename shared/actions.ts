import type { Capability, CapabilityState } from './capabilities.js';
import type { WorkloadInfo, WorkloadState } from './model.js';

/**
 * Which lifecycle actions make sense now: capability × state. Pure, so the buttons, the
 * command palette, the CLI's hints and the tests all agree.
 */
export const ACTIONS = [
  'start',
  'stop',
  'forceStop',
  'restart',
  'pause',
  'resume',
  'delete',
  'snapshot',
  'migrate',
  'scale',
  'console',
  'terminal',
  'logs',
] as const;
export type Action = (typeof ACTIONS)[number];

type Caps = Record<Capability, CapabilityState>;

const RULES: Record<Action, { cap: Capability; states: readonly WorkloadState[] }> = {
  start: { cap: 'start', states: ['stopped', 'exited', 'crashed'] },
  stop: { cap: 'stop', states: ['running', 'paused'] },
  forceStop: { cap: 'stop', states: ['running', 'paused', 'unknown'] },
  restart: { cap: 'restart', states: ['running'] },
  pause: { cap: 'pause', states: ['running'] },
  resume: { cap: 'pause', states: ['paused'] },
  delete: { cap: 'delete', states: ['running', 'paused', 'stopped', 'exited', 'crashed', 'unknown'] },
  snapshot: { cap: 'snapshot', states: ['running', 'paused', 'stopped', 'exited'] },
  migrate: { cap: 'migrate', states: ['running', 'paused', 'stopped', 'exited'] },
  scale: { cap: 'scale', states: ['running', 'paused', 'stopped', 'exited'] },
  console: { cap: 'console', states: ['running', 'paused'] },
  terminal: { cap: 'terminal', states: ['running'] },
  logs: { cap: 'logs', states: ['running', 'paused', 'stopped', 'exited', 'crashed', 'unknown'] },
};

/** Why the action cannot run now, or undefined when it can. */
export function whyNot(action: Action, w: Pick<WorkloadInfo, 'state'>, caps: Caps): string | undefined {
  const rule = RULES[action];
  const cap = caps[rule.cap];
  if (!cap.available) return cap.reason ?? `${rule.cap} is not available`;
  if (!rule.states.includes(w.state)) return `not possible while ${w.state}`;
  return undefined;
}

export const can = (action: Action, w: Pick<WorkloadInfo, 'state'>, caps: Caps): boolean =>
  whyNot(action, w, caps) === undefined;

export const canStart = (w: Pick<WorkloadInfo, 'state'>, caps: Caps) => can('start', w, caps);
export const canStop = (w: Pick<WorkloadInfo, 'state'>, caps: Caps) => can('stop', w, caps);
export const canPause = (w: Pick<WorkloadInfo, 'state'>, caps: Caps) => can('pause', w, caps);
export const canResume = (w: Pick<WorkloadInfo, 'state'>, caps: Caps) => can('resume', w, caps);
export const canDelete = (w: Pick<WorkloadInfo, 'state'>, caps: Caps) => can('delete', w, caps);

/** Deleting these states loses a running guest: the UI asks twice and the core wants force. */
export const isActive = (w: Pick<WorkloadInfo, 'state'>): boolean => w.state === 'running' || w.state === 'paused';
