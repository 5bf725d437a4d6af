import { randomUUID } from 'node:crypto';
import type { Transport } from '../../../shared/contract/wire.js';
import { NovaClient } from '../../../shared/contract/client.js';
import type { Router } from '../api/router.js';
import type { Origin } from '../drivers/driver.js';

/**
 * The in-process transport: the CLI and the tests hold the core in their own process and
 * still go through the router, so their input is validated exactly like the UI's.
 */
export function inprocTransport(router: Router, origin: Origin): Transport {
  const client = `inproc-${randomUUID()}`;
  return {
    call: (method, input, op) => router.call(method, input, { origin, client, ...(op ? { op } : {}) }),
    subscribe: (stream, input, sink) => {
      const d = router.subscribe(stream, input, sink, { origin, client });
      return () => d.dispose();
    },
  };
}

export function inprocClient(router: Router, origin: Origin): NovaClient {
  return new NovaClient(inprocTransport(router, origin));
}
