import RFB from '@novnc/novnc';
import { useEffect, useRef } from 'react';

/**
 * A VNC screen: owns one noVNC RFB object and nothing else. It connects when mounted (or
 * when the URL changes) and disconnects in the cleanup; what to connect to and what to do
 * about its state are the parent's business, through the props and callbacks.
 */
export function VncConsole(props: {
  /** ws:// URL with a one-time ticket: a new ticket (a new URL) reconnects. */
  url: string;
  testId?: string;
  onConnect?: () => void;
  onDisconnect?: (clean: boolean) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const handlers = useRef(props);
  handlers.current = props;

  useEffect(() => {
    if (!box.current) return;
    const rfb = new RFB(box.current, props.url, { shared: true });
    rfb.scaleViewport = true;
    rfb.background = '#000';
    const onConnect = () => handlers.current.onConnect?.();
    const onDisconnect = (e: Event) => handlers.current.onDisconnect?.(Boolean((e as CustomEvent<{ clean?: boolean }>).detail?.clean));
    rfb.addEventListener('connect', onConnect);
    rfb.addEventListener('disconnect', onDisconnect);
    return () => {
      rfb.removeEventListener('connect', onConnect);
      rfb.removeEventListener('disconnect', onDisconnect);
      rfb.disconnect();
    };
  }, [props.url]);

  return <div ref={box} className="vnc" data-testid={props.testId} />;
}
