import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { client } from '../transport/client.js';

export type TerminalStatus = 'idle' | 'connecting' | 'open' | 'closed' | 'failed';

export interface TerminalState {
  status: TerminalStatus;
  error?: string;
}

/** Copy text to the clipboard, with the old way where the async API is not allowed (Electron's locked-down page, plain http). */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
}

/**
 * One terminal: an xterm and the `terminal` stream behind it (a container exec, a VM's
 * serial console). It lives outside React, so tab switches move its element instead of
 * closing the TTY; sizes go to the TTY (terminal.resize) whenever the box changes.
 */
export class TerminalSession {
  readonly element: HTMLDivElement;
  readonly term: Terminal;
  private readonly fit = new FitAddon();
  private opened = false;
  private state: TerminalState = { status: 'idle' };
  private readonly listeners = new Set<() => void>();
  private unsubscribe: (() => void) | undefined;
  private session: string | undefined;
  private generation = 0;
  private runKey: string | undefined;

  constructor(readonly workloadId: string) {
    this.element = document.createElement('div');
    this.element.className = 'terminal-screen';
    this.term = new Terminal({ cursorBlink: true, fontSize: 13, scrollback: 5000, theme: { background: '#0b0d12' } });
    this.term.loadAddon(this.fit);
    this.term.onData((d) => this.input(d));
    this.term.onResize(({ cols, rows }) => {
      this.sendSize(cols, rows);
      this.showSize();
    });
    // Ctrl+Shift+C copies the selection; Ctrl+Shift+V is left to the browser, whose paste event xterm takes.
    this.term.attachCustomKeyEventHandler((e) => {
      if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true;
      if (e.code === 'KeyC') {
        void this.copy();
        return false;
      }
      return e.code !== 'KeyV';
    });
  }

  get snapshot(): TerminalState {
    return this.state;
  }

  readonly subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  private set(patch: Partial<TerminalState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  /** Show it in a box: xterm opens the first time, and fits the box every time. */
  attach(host: HTMLElement): void {
    host.appendChild(this.element);
    if (!this.opened) {
      this.term.open(this.element);
      this.opened = true;
    }
    this.refit();
  }

  detach(): void {
    this.element.remove();
  }

  refit(): void {
    if (!this.element.isConnected || this.element.clientWidth === 0) return;
    try {
      this.fit.fit();
    } catch {
      // Not laid out yet: the next resize fits it.
    }
    this.showSize();
  }

  /** The size the TTY was told, readable from the page (and by the tests). */
  private showSize(): void {
    this.element.dataset.cols = String(this.term.cols);
    this.element.dataset.rows = String(this.term.rows);
  }

  connect(): void {
    this.unsubscribe?.();
    const gen = ++this.generation;
    this.session = undefined;
    this.set({ status: 'connecting', error: undefined });
    this.unsubscribe = client.subscribe('terminal', { id: this.workloadId, cols: this.term.cols, rows: this.term.rows }, {
      event: (e) => {
        if (gen !== this.generation) return;
        if (e.type === 'ready') {
          this.session = e.session;
          this.set({ status: 'open' });
          this.sendSize(this.term.cols, this.term.rows);
        } else if (e.type === 'data' && e.data) this.term.write(e.data);
        else if (e.type === 'exit') {
          this.term.write('\r\n\x1b[2m[the terminal closed]\x1b[0m\r\n');
          this.set({ status: 'closed' });
        }
      },
      error: (err) => {
        if (gen !== this.generation) return;
        this.set({ status: 'failed', error: err.message });
      },
      end: () => gen === this.generation && this.state.status === 'open' && this.set({ status: 'closed' }),
    });
  }

  /** A new process behind the workload (restart, migration) has a new TTY: reopen, shown or not. */
  follow(runKey: string | undefined, available: boolean): void {
    const before = this.runKey;
    this.runKey = runKey;
    if (before !== undefined && before !== runKey && available && this.state.status !== 'connecting' && this.state.status !== 'idle') this.connect();
  }

  /** The workload stopped: close, and start again by itself when it runs. */
  reset(): void {
    if (this.state.status === 'idle') return;
    this.generation++;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.session = undefined;
    this.set({ status: 'idle', error: undefined });
  }

  private input(data: string): void {
    if (this.session) void client.call('terminal.input', { session: this.session, data }).catch(() => undefined);
  }

  private sendSize(cols: number, rows: number): void {
    if (this.session) void client.call('terminal.resize', { session: this.session, cols, rows }).catch(() => undefined);
  }

  async copy(): Promise<void> {
    const sel = this.term.getSelection();
    if (sel) await copyText(sel);
  }

  /** Paste as xterm does (bracketed when the program asked for it). */
  paste(text: string): void {
    this.term.paste(text);
    this.term.focus();
  }

  dispose(): void {
    this.generation++;
    this.unsubscribe?.();
    this.listeners.clear();
    this.term.dispose();
    this.element.remove();
  }
}

const sessions = new Map<string, TerminalSession>();
const KEEP = 6;

export function terminalSession(id: string): TerminalSession {
  let s = sessions.get(id);
  if (s) sessions.delete(id);
  else s = new TerminalSession(id);
  sessions.set(id, s);
  for (const [k, old] of sessions) {
    if (sessions.size <= KEEP) break;
    if (k !== id) {
      old.dispose();
      sessions.delete(k);
    }
  }
  return s;
}

export function dropTerminal(id: string): void {
  sessions.get(id)?.dispose();
  sessions.delete(id);
}
