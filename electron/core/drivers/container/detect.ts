import type { Detection } from '../driver.js';
import type { Engine } from './engine.js';
import { engineInfo, engineVersion, isLocal } from './engine.js';
import { engineError } from './errors.js';

/** How long an engine may take to answer a ping before we call it "not answering". */
export const PING_TIMEOUT_MS = 3_000;

/**
 * The engine's version and API version, or why it cannot be used: socket missing,
 * permission denied, not answering. Never throws: the matrix shows the reason.
 */
export async function detectEngine(engine: Engine, signal: AbortSignal): Promise<Detection> {
  const where = engine.address.text;
  const timeout = AbortSignal.any([signal, AbortSignal.timeout(PING_TIMEOUT_MS)]);
  try {
    // Two independent questions, asked at once.
    const [v, info] = await Promise.all([engineVersion(engine.docker, timeout), engineInfo(engine.docker, timeout)]);
    const unsupported: Detection['unsupported'] = {};
    if (info.MemoryLimit === false) {
      unsupported.limits = 'the engine reports no memory limit support on this kernel';
      unsupported.scale = unsupported.limits;
    }
    const cgroup = info.CgroupVersion ? `v${info.CgroupVersion}` : 'unknown';
    return {
      available: true,
      version: `Docker ${v.Version} (API ${v.ApiVersion})`,
      unsupported,
      details: {
        host: where,
        engine_version: v.Version,
        api_version: v.ApiVersion,
        ...(v.MinAPIVersion ? { min_api_version: v.MinAPIVersion } : {}),
        ...(v.Os ? { platform: `${v.Os}/${v.Arch ?? '?'}` } : {}),
        ...(info.Driver ? { storage_driver: info.Driver } : {}),
        ...(info.DefaultRuntime ? { default_runtime: info.DefaultRuntime } : {}),
        cgroup: `${cgroup}${info.CgroupDriver ? ` (${info.CgroupDriver})` : ''}`,
        metrics_source: isLocal(engine.address) ? `cgroup ${cgroup} files, engine API as fallback` : 'engine API stats stream',
      },
    };
  } catch (e) {
    const timedOut = timeout.aborted && !signal.aborted;
    const why = timedOut ? `engine not answering (no reply in ${PING_TIMEOUT_MS / 1000} s)` : engineError(e).message.replace(/^container: /, '');
    return { available: false, reason: `Docker engine at ${where}: ${why}`, details: { host: where } };
  }
}
