import type { MethodImpl } from '../api/router.js';
import type { Core } from '../core.js';

type ControlRoomMethods = 'vnc.list' | 'vnc.save' | 'vnc.delete' | 'vnc.open' | 'uploads.begin' | 'uploads.write' | 'uploads.finish' | 'uploads.discard';

/** The contract's control-room methods; spread into api/methods.ts. */
export function controlRoomMethods(core: Core): Pick<MethodImpl, ControlRoomMethods> {
  return {
    'vnc.list': async (_input, ctx) => core.vnc.list(ctx.origin),
    'vnc.save': async (input, ctx) => core.vnc.save(input, ctx.origin),
    'vnc.delete': async ({ id }, ctx) => core.vnc.delete(id, ctx.origin),
    'vnc.open': async ({ id }, ctx) => core.vnc.open(id, ctx.origin),
    'uploads.begin': async ({ name, size }) => core.uploads.begin(name, size),
    'uploads.write': async ({ upload, offset, data }) => core.uploads.write(upload, offset, data),
    'uploads.finish': async ({ upload }) => core.uploads.finish(upload),
    'uploads.discard': async ({ upload }) => core.uploads.discard(upload),
  };
}
