import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private NovaCron data dir and config file for one test file. */
export function tempHome(prefix = 'nc-'): { home: string; env: NodeJS.ProcessEnv; cleanup(): void } {
  // Short paths: unix sockets in it must stay under 108 bytes.
  const home = mkdtempSync(join(tmpdir(), prefix));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NOVACRON_HOME: home,
    NOVACRON_CONFIG: join(home, 'config.yaml'),
  };
  return { home, env, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}
