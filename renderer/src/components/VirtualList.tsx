import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

/**
 * A list that renders only the rows in view (plus a few either side): 1,000 workloads
 * cost the DOM of thirty. Rows have one fixed height; each sits at its own offset, so a
 * row that does not move is not touched when others change.
 */
export function VirtualList(props: {
  count: number;
  rowHeight: number;
  render: (index: number, top: number) => ReactNode;
  /** Told which slice is rendered, so the page can watch just those rows' numbers. */
  onRange?: (from: number, to: number) => void;
  /** The row the keyboard is on: kept in view. */
  activeIndex?: number;
  onKeyDown?: (e: KeyboardEvent<HTMLDivElement>) => void;
  overscan?: number;
  testId?: string;
  label: string;
}) {
  const { count, rowHeight, overscan = 6 } = props;
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const frame = useRef<number | undefined>(undefined);

  // The observer reports the first size once the browser has laid the page out anyway:
  // reading clientHeight here would force that whole layout inside React's commit.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useEffect(() => () => (frame.current !== undefined ? cancelAnimationFrame(frame.current) : undefined), []);

  const onScroll = () => {
    if (frame.current !== undefined) return;
    // One state update per frame however fast the wheel spins.
    frame.current = requestAnimationFrame(() => {
      frame.current = undefined;
      if (box.current) setScrollTop(box.current.scrollTop);
    });
  };

  const from = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const to = Math.min(count, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  const { onRange, activeIndex } = props;
  useEffect(() => onRange?.(from, to), [from, to, onRange]);

  useEffect(() => {
    const el = box.current;
    if (!el || activeIndex === undefined || activeIndex < 0) return;
    const top = activeIndex * rowHeight;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + rowHeight - el.clientHeight;
  }, [activeIndex, rowHeight]);

  const rows: ReactNode[] = [];
  for (let i = from; i < to; i++) rows.push(props.render(i, i * rowHeight));
  return (
    <div ref={box} className="vlist" onScroll={onScroll} onKeyDown={props.onKeyDown} data-testid={props.testId} data-total={count} data-rendered={to - from} role="rowgroup" aria-label={props.label}>
      <div style={{ height: count * rowHeight, position: 'relative' }}>{rows}</div>
    </div>
  );
}
