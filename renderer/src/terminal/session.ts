import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { LiveSession, SessionCache } from '../live-session.js';
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
export class TerminalSession extends LiveSession<TerminalState> {
  readonly term: Terminal;
  private readonly fit = new FitAddon();
  private opened = false;
  private unsubscribe: (() => void) | undefined;
  private session: string | undefined;

  constructor(readonly workloadId: string) {
    super('terminal-screen', { status: 'idle' });
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
    this.close();
    const gen = ++this.generation;
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

  protected close(): void {
    this.generation++;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.session = undefined;
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

  override dispose(): void {
    super.dispose();
    this.term.dispose();
  }
}

/** Terminals kept open in the background at most; the least recently shown one is closed. */
const sessions = new SessionCache<TerminalSession>(6);

export function terminalSession(id: string): TerminalSession {
  return sessions.get(id, () => new TerminalSession(id));
}

export function dropTerminal(id: string): void {
  sessions.drop(id);
}
