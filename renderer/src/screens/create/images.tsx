import { useEffect, useState } from 'react';
import type { DriverId } from '../../../../shared/ids.js';
import { ImageImport } from '../../components/ImageImport.js';
import { notify } from '../../stores/notices.js';
import { client } from '../../transport/client.js';

/** The engine's local image refs (undefined while loading), and a way to read them again after an import. */
export function useLocalImages(driver: DriverId) {
  const [refs, setRefs] = useState<string[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    // A late answer for a driver the form no longer shows must not land.
    let live = true;
    client.call('images.list', { driver }).then(
      (list) => live && setRefs(list.flatMap((i) => i.refs)),
      (e: unknown) => live && setError((e as Error).message),
    );
    return () => {
      live = false;
    };
  }, [driver, generation]);
  return { refs, error, reload: () => setGeneration((g) => g + 1) };
}

/**
 * "Or import one from a file…": the toggle goes inside the image box, the import panel
 * after it (a panel inside the box's <label> would take its clicks), so both are returned.
 */
export function useImageImport(driver: DriverId, onImported: (ref: string) => void) {
  const [open, setOpen] = useState(false);
  const toggle = (
    <button type="button" className="link-button" onClick={() => setOpen(!open)} data-testid="import-toggle">
      {open ? 'Hide the import' : 'Or import one from a file…'}
    </button>
  );
  const panel = open && (
    <ImageImport
      driver={driver}
      onImported={(ref) => {
        onImported(ref);
        setOpen(false);
        notify('info', `Image ${ref} imported`);
      }}
    />
  );
  return { toggle, panel };
}
