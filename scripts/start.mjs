// `npm start`: the desktop window where Electron and a display exist; otherwise it says
// why and starts the headless web mode, so the command always does something useful.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

const require = createRequire(import.meta.url);
const extra = process.argv.slice(2);

function electronBinary() {
  try {
    const path = require('electron'); // the package exports the binary's path, or throws when it was never downloaded
    return typeof path === 'string' && existsSync(path) ? { path } : { why: `the Electron binary is missing (${path})` };
  } catch (e) {
    return { why: `the Electron binary is not installed (${e.message.split('\n')[0]})` };
  }
}

const bin = electronBinary();
const display = process.platform !== 'linux' || process.env.DISPLAY || process.env.WAYLAND_DISPLAY;
const run = (cmd, args) => {
  const child = spawn(cmd, args, { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
};

if (bin.path && display) {
  run(bin.path, ['.', ...extra]);
} else {
  const why = bin.path ? 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)' : bin.why;
  console.log(`novacron: no desktop window: ${why}. Starting the headless web mode instead.`);
  run(process.execPath, ['bin/novacron.mjs', 'serve', ...extra]);
}
