import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef } from 'react';

/** Where a terminal's bytes come from and go to: the parent wires it to a terminal stream. */
export interface TerminalSource {
  /** Deliver output to write; returns the unsubscribe. */
  subscribe(write: (data: string) => void): () => void;
  input(data: string): void;
  resize(cols: number, rows: number): void;
}

/**
 * A terminal: owns one xterm Terminal (and its fit add-on) and nothing else. It opens when
 * mounted, follows its box's size, and is disposed in the cleanup.
 */
export function TerminalView({ source, testId }: { source: TerminalSource; testId?: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const term = new Terminal({ convertEol: false, cursorBlink: true, fontSize: 13, scrollback: 5000 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(box.current);
    const refit = () => {
      try {
        fit.fit();
      } catch {
        return; // not laid out yet
      }
      source.resize(term.cols, term.rows);
    };
    refit();
    const unsubscribe = source.subscribe((d) => term.write(d));
    const typed = term.onData((d) => source.input(d));
    const observer = new ResizeObserver(refit);
    observer.observe(box.current);
    return () => {
      observer.disconnect();
      typed.dispose();
      unsubscribe();
      term.dispose();
    };
  }, [source]);
  return <div ref={box} className="terminal" data-testid={testId} />;
}
