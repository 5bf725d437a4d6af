import { client } from '../transport/client.js';
import { sameOrigin, workloadConsole } from '../detail/WorkloadScreen.js';

export const VNC_PREFIX = 'vnc:';

/** A saved connection's console: a ticket through the core's proxy, and the password the page's VNC client answers with. */
export const savedConsole = (connId: string) => async () => {
  const t = await client.call('vnc.open', { id: connId });
  return { url: t.url ?? sameOrigin(t.path), ...(t.password ? { password: t.password } : {}) };
};

/** A console key names a workload (kvm:…) or a saved connection (vnc:…). */
export const openerFor = (key: string) => (key.startsWith(VNC_PREFIX) ? savedConsole(key.slice(VNC_PREFIX.length)) : workloadConsole(key));
