import { closeSync, constants, open as openCb } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import tty from 'node:tty';
import { promisify } from 'node:util';
import { execa } from 'execa';
import { driverError, isNodeError } from '../../base/errors.js';
import { Emitter } from '../../base/lifecycle.js';
import type { TerminalSession } from '../driver.js';
import { readSerialTail, serialSession, SharedSerialLine } from '../common/serial-session.js';
import { what, type Lv } from './context.js';
import { domstate } from './lifecycle.js';
import { D } from './virsh.js';

/**
 * The serial console as a terminal stream.
 *
 * virsh console will not run without a controlling terminal, and Node has no PTY module.
 * On a local connection NovaCron needs neither: libvirt already gives the domain's serial
 * port a PTY (`<console type='pty'>`, its slave at /dev/pts/N in the live XML), and that
 * slave is exactly what `virsh console` relays through libvirtd. We open it ourselves,
 * O_NOCTTY, and put it in raw mode with Node's own tty module (no echo back into the
 * guest, no line buffering): no helper process, no interpreter, nothing between the bytes
 * and the guest. One reader per PTY, shared by every session of this process, because
 * two readers of one PTY would each get half the bytes.
 *
 * A remote connection (or a PTY this user may not open) has no such path: there the
 * session is `virsh console --force` given a terminal by a dozen lines of python3's pty
 * module, so libvirt's own console stream carries it over the connection.
 */

/** Where a domain's console PTY is now, or undefined while it has none (stopped, restarting). */
type Locate = () => Promise<string | undefined>;

const openFd = promisify(openCb);

class PtyLine extends SharedSerialLine {
  private input: tty.ReadStream | undefined;
  private output: tty.WriteStream | undefined;
  private typed: string[] = [];

  private constructor(
    private readonly key: string,
    private readonly locate: Locate,
  ) {
    super();
  }

  static async open(key: string, locate: Locate, path: string): Promise<PtyLine> {
    const line = new PtyLine(key, locate);
    await line.attach(path);
    return line;
  }

  /** Two descriptors of the slave, O_NOCTTY: a raw-mode reader and a writer. */
  private async attach(path: string): Promise<void> {
    const flags = constants.O_RDWR | constants.O_NOCTTY;
    const r = await openFd(path, flags);
    const w = await openFd(path, flags).catch((e: unknown) => {
      closeSync(r);
      throw e;
    });
    if (this.closed) {
      closeSync(r);
      closeSync(w);
      return;
    }
    const input = new tty.ReadStream(r);
    input.setRawMode(true);
    const output = new tty.WriteStream(w);
    this.input = input;
    this.output = output;
    // What was typed while the domain changed QEMUs goes to the new one.
    for (const t of this.typed.splice(0)) output.write(t);
    const decoder = new StringDecoder('utf8');
    input.on('data', (b: Buffer) => {
      const t = decoder.write(b);
      if (t) this.data.fire(t);
    });
    // EIO once QEMU closes the master: the domain stopped, or libvirt replaced its QEMU (a snapshot revert).
    let gone = false;
    const lost = () => {
      if (gone) return;
      gone = true;
      input.destroy();
      output.destroy();
      if (!this.closed) void this.reattach();
    };
    input.on('error', lost);
    input.on('end', lost);
    input.on('close', lost);
    output.on('error', () => undefined);
  }

  /** Follow the domain to its new QEMU's PTY (a revert restarts QEMU: seconds on a busy host); then the session ends. */
  private async reattach(): Promise<void> {
    this.input = undefined;
    this.output = undefined;
    const deadline = Date.now() + 15_000;
    while (!this.closed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      const path = await this.locate().catch(() => undefined);
      if (!path || this.closed) continue;
      try {
        await this.attach(path);
        return;
      } catch {
        // not there yet
      }
    }
    this.giveUp();
  }

  write(text: string): void {
    if (this.closed) return;
    if (this.output) this.output.write(text);
    else if (this.typed.length < 1024) this.typed.push(text);
  }
  protected release(): void {
    ptys.delete(this.key);
    this.input?.destroy();
    this.output?.destroy();
  }
}

const ptys = new Map<string, Promise<PtyLine>>();

/**
 * The few lines of python that give `virsh console` the terminal it insists on, relaying
 * bytes both ways. Keystrokes are held until virsh has put the terminal in raw mode:
 * virsh switches with TCSAFLUSH, which throws away whatever was typed before (and the
 * cooked terminal would echo it first). The master shares the slave's termios, so the
 * helper can see the switch.
 */
const PTY_HELPER = `
import os, pty, select, sys, termios
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
held = b''
def raw():
    return not (termios.tcgetattr(fd)[3] & (termios.ICANON | termios.ECHO))
try:
    while True:
        r, _, _ = select.select([0, fd], [], [], 0.05 if held else None)
        if fd in r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            os.write(1, data)
        if 0 in r:
            data = os.read(0, 65536)
            if not data:
                break
            held += data
        if held and raw():
            os.write(fd, held)
            held = b''
finally:
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
`;

/** `virsh console --force` on a PTY from the helper; its banner up to "Escape character…" is dropped. */
function virshConsole(lv: Lv, uuid: string): TerminalSession {
  const child = execa('python3', ['-c', PTY_HELPER, lv.virsh.binary, '--connect', lv.uri, 'console', '--force', uuid], {
    reject: false,
    env: { LC_ALL: 'C' },
    buffer: false,
    stdin: 'pipe',
  });
  const data = new Emitter<string>();
  const exited = new Emitter<number | undefined>();
  const decoder = new StringDecoder('utf8');
  let head: string | undefined = '';
  child.stdout.on('data', (b: Buffer) => {
    let t = decoder.write(b);
    if (head !== undefined) {
      head += t;
      const at = head.indexOf('Escape character is');
      if (at < 0 && head.length < 2048) return;
      const nl = at < 0 ? -1 : head.indexOf('\n', at);
      if (at >= 0 && nl < 0) return;
      t = at >= 0 ? head.slice(nl + 1) : head;
      head = undefined;
    }
    if (t) data.fire(t);
  });
  child.stdin.on('error', () => undefined);
  void child.then((r) => {
    if (r.failed && 'code' in r && r.code === 'ENOENT') head = "novacron: python3 is not installed: a remote domain's serial console needs it to give virsh console a terminal\r\n";
    // virsh's own error (no such domain, a console held elsewhere) is all it printed: show it.
    if (head) data.fire(head + decoder.end());
    head = undefined;
    exited.fire(r.exitCode);
  });
  return {
    onData: (l) => data.event(l),
    onExit: (l) => exited.event(l),
    write: (t) => {
      if (child.exitCode === null) child.stdin.write(t);
    },
    resize: () => undefined,
    dispose: () => {
      child.kill();
      data.dispose();
      exited.dispose();
    },
  };
}

export async function serialTerminal(lv: Lv, local: string, kind: 'exec' | 'serial' | undefined, signal: AbortSignal): Promise<TerminalSession> {
  if (kind === 'exec') throw driverError(D, 'NOT_SUPPORTED', 'a domain has no exec: open its serial console (kind serial)');
  const uuid = lv.domains.check(local);
  const state = await domstate(lv, uuid, signal);
  const facts = await lv.domains.factsOf(uuid, signal, true);
  if (state !== 'running' && state !== 'paused') throw driverError(D, 'CONFLICT', `${what(facts)} is ${state}: its serial console is closed`);
  if (!lv.local) return virshConsole(lv, uuid);
  if (!facts.consolePty) throw driverError(D, 'NOT_SUPPORTED', `${what(facts)} has no serial console on a PTY (<console type='pty'>)`);
  let opening = ptys.get(uuid);
  if (!opening) {
    const locate: Locate = async () => {
      const now = await domstate(lv, uuid);
      return now === 'running' || now === 'paused' ? (await lv.domains.factsOf(uuid, undefined, true)).consolePty : undefined;
    };
    opening = PtyLine.open(uuid, locate, facts.consolePty);
    ptys.set(uuid, opening);
    opening.catch(() => ptys.delete(uuid));
  }
  let line: PtyLine;
  try {
    line = await opening;
  } catch (e) {
    if (isNodeError(e, 'EACCES') || isNodeError(e, 'EPERM')) return virshConsole(lv, uuid);
    throw driverError(D, 'UNAVAILABLE', `${what(facts)}: cannot open its console ${facts.consolePty}: ${(e as Error).message}`);
  }
  line.ref();
  // The log is read once the PTY is open, not before: what the guest printed while the
  // PTY was being opened (seconds, on a busy host) is in the log, and the PTY's own buffer
  // is flushed when the helper makes the terminal raw.
  let backlog: string | undefined;
  try {
    backlog = await readSerialTail(facts.serialLog);
  } catch (e) {
    line.unref();
    throw e;
  }
  return serialSession(line, backlog);
}
