import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where NovaCron keeps things. Everything the app writes lives under the data dir
 * (NOVACRON_HOME), so tests point it at a temp dir and an admin can back one folder up.
 */
export interface Paths {
  /** $NOVACRON_HOME, else $XDG_DATA_HOME/novacron, else ~/.local/share/novacron */
  home: string;
  /** The config file: $NOVACRON_CONFIG, else $XDG_CONFIG_HOME/novacron/config.yaml */
  configFile: string;
  /** Logs and the event log. */
  state: string;
  /** Sockets and pidfiles of running things. Short, because unix socket paths are capped at 108 bytes. */
  run: string;
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): Paths {
  const xdgData = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  const xdgConfig = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  const home = env.NOVACRON_HOME || join(xdgData, 'novacron');
  return {
    home,
    configFile: env.NOVACRON_CONFIG || join(xdgConfig, 'novacron', 'config.yaml'),
    state: join(home, 'state'),
    run: join(home, 'run'),
  };
}
