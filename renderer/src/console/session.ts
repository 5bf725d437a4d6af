import RFB from '@novnc/novnc';
import { LiveSession, SessionCache } from '../live-session.js';
import { COMBOS, typeText, type Key } from './keys.js';

export type ConsoleStatus = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'failed';
export type Scale = 'fit' | 'native';

export interface ConsoleState {
  status: ConsoleStatus;
  error?: string;
  scale: Scale;
  desktop?: string;
}

/** Where to connect: a fresh one-time ticket each time (console.open or vnc.open). */
export type Opener = () => Promise<{ url: string; password?: string }>;

/**
 * One console: a noVNC connection and the element it draws into. It lives outside React,
 * so switching tabs (or pages) moves its element instead of reconnecting; the view that
 * shows it only attaches and detaches the element.
 */
export class ConsoleSession extends LiveSession<ConsoleState> {
  private rfb: RFB | undefined;

  constructor(
    readonly key: string,
    private readonly opener: Opener,
  ) {
    super('vnc-screen', { status: 'idle', scale: 'fit' });
  }

  async connect(): Promise<void> {
    this.close();
    const gen = ++this.generation;
    this.set({ status: 'connecting', error: undefined });
    let target: { url: string; password?: string };
    try {
      target = await this.opener();
    } catch (e) {
      if (gen === this.generation) this.set({ status: 'failed', error: (e as Error).message });
      return;
    }
    if (gen !== this.generation) return;
    const rfb = new RFB(this.element, target.url, { shared: true, ...(target.password ? { credentials: { password: target.password } } : {}) });
    this.rfb = rfb;
    this.applyScale(rfb);
    rfb.background = '#000';
    rfb.focusOnClick = true;
    const mine = () => gen === this.generation;
    rfb.addEventListener('connect', () => mine() && this.set({ status: 'connected', error: undefined }));
    rfb.addEventListener('disconnect', (e) => {
      if (!mine()) return;
      this.rfb = undefined;
      const clean = Boolean((e as CustomEvent<{ clean?: boolean }>).detail?.clean);
      if (this.state.status === 'failed') return;
      this.set(clean ? { status: 'disconnected' } : { status: 'failed', error: this.state.status === 'connecting' ? 'could not connect to the console' : 'the console connection was lost' });
    });
    rfb.addEventListener('credentialsrequired', () => {
      if (!mine()) return;
      // A password we have was already offered; asking again means it was refused or is missing.
      this.set({ status: 'failed', error: target.password ? 'the VNC server refused the saved password' : 'the VNC server wants a password: save one with the connection' });
      rfb.disconnect();
    });
    rfb.addEventListener('securityfailure', (e) => {
      if (!mine()) return;
      const reason = (e as CustomEvent<{ reason?: string }>).detail?.reason;
      this.set({ status: 'failed', error: `VNC security failure${reason ? `: ${reason}` : ''}` });
    });
    rfb.addEventListener('desktopname', (e) => mine() && this.set({ desktop: (e as CustomEvent<{ name?: string }>).detail?.name ?? '' }));
  }

  /** The admin closed it: stays closed until asked again. */
  disconnect(): void {
    this.close();
    this.set({ status: 'disconnected', error: undefined });
  }

  protected close(): void {
    this.generation++;
    const rfb = this.rfb;
    this.rfb = undefined;
    rfb?.disconnect();
  }

  setScale(scale: Scale): void {
    this.set({ scale });
    if (this.rfb) this.applyScale(this.rfb);
  }

  private applyScale(rfb: RFB): void {
    rfb.scaleViewport = this.state.scale === 'fit';
    rfb.clipViewport = false;
    this.element.classList.toggle('native', this.state.scale === 'native');
  }

  sendCombo(id: string): void {
    const combo = COMBOS.find((c) => c.id === id);
    if (!combo || !this.rfb) return;
    const rfb = this.rfb;
    const press = (k: Key, down: boolean) => rfb.sendKey(k.keysym, k.code, down);
    for (const k of combo.keys) press(k, true);
    for (const k of [...combo.keys].reverse()) press(k, false);
    rfb.focus();
  }

  /** Type text into the guest, key by key: clipboards do not cross into a text console. */
  type(text: string): void {
    const rfb = this.rfb;
    if (!rfb) return;
    for (const [keysym, code, down] of typeText(text)) rfb.sendKey(keysym, code || null, down);
    rfb.focus();
  }

  focus(): void {
    this.rfb?.focus();
  }
}

/** Consoles kept open in the background at most; the least recently shown one is closed. */
const sessions = new SessionCache<ConsoleSession>(4);

export function consoleSession(key: string, opener: Opener): ConsoleSession {
  return sessions.get(key, () => new ConsoleSession(key, opener));
}

export function dropConsole(key: string): void {
  sessions.drop(key);
}
