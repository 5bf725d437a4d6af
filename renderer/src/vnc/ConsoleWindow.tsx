import { useEffect, useMemo } from 'react';
import { ConsoleView } from '../console/ConsoleView.js';
import { useWorkload } from '../stores/workloads.js';
import { openerFor, VNC_PREFIX } from './openers.js';

/** A console alone in its window (`#/console/KEY`): a workload's screen, or a saved connection's. */
export function ConsoleWindow({ consoleKey }: { consoleKey: string }) {
  const saved = consoleKey.startsWith(VNC_PREFIX);
  const w = useWorkload(saved ? '' : consoleKey);
  const opener = useMemo(() => openerFor(consoleKey), [consoleKey]);
  const available = saved || w?.state === 'running' || w?.state === 'paused';
  const title = saved ? 'VNC console' : (w?.name ?? consoleKey);
  useEffect(() => {
    document.title = `${title} · NovaCron`;
  }, [title]);
  return (
    <div className="console-window">
      <ConsoleView sessionKey={consoleKey} opener={opener} available={available} runKey={w?.startedAt} unavailableText={w ? `${w.name} is ${w.state}.` : 'Loading…'} testId={`vnc-${consoleKey}`} standalone />
    </div>
  );
}
