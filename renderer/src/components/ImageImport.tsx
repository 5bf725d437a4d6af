import { useState } from 'react';
import { UPLOAD_CHUNK } from '../../../shared/control-room.js';
import type { DriverId } from '../../../shared/ids.js';
import type { Progress } from '../../../shared/model.js';
import { client } from '../transport/client.js';
import { track, useOperation } from '../stores/operations.js';
import { Field } from './Field.js';
import { ProgressBar } from './ProgressBar.js';

/** A slice of a file as base64, read by the browser itself (no string building in JS). */
function base64Of(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(typeof r.result === 'string' ? r.result.replace(/^data:[^,]*,/, '') : '');
    r.onerror = () => reject(r.error ?? new Error('cannot read the file'));
    r.readAsDataURL(blob);
  });
}

const suggestRef = (file: string) => `${file.replace(/\.(tar(\.gz)?|tgz)$/i, '').toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '') || 'imported'}:latest`;

/**
 * Import an image from a file on the admin's machine: sent to the core in chunks (the
 * browser may be elsewhere), then imported by the driver, one progress bar for both.
 */
export function ImageImport({ driver, onImported }: { driver: DriverId; onImported: (ref: string) => void }) {
  const [file, setFile] = useState<File | undefined>();
  const [name, setName] = useState('');
  const [sending, setSending] = useState<Progress | undefined>();
  const [op, setOp] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const importing = useOperation(op);
  const busy = sending !== undefined || op !== undefined;

  const run = async () => {
    if (!file) return;
    setError(undefined);
    let upload: string | undefined;
    try {
      upload = (await client.call('uploads.begin', { name: file.name.replace(/[/\\]/g, '_'), size: file.size })).upload;
      for (let offset = 0; offset < file.size; offset += UPLOAD_CHUNK) {
        setSending({ op: '', label: `sending ${file.name}`, done: offset, total: file.size, unit: 'bytes' });
        await client.call('uploads.write', { upload, offset, data: await base64Of(file.slice(offset, offset + UPLOAD_CHUNK)) });
      }
      const { file: path } = await client.call('uploads.finish', { upload });
      setSending(undefined);
      const img = await track('images.import', { driver, file: path, name: name.trim() }, { label: `Import ${name.trim()}`, onOp: setOp });
      onImported(img.refs[0] ?? name.trim());
      setFile(undefined);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setSending(undefined);
      setOp(undefined);
      if (upload) void client.call('uploads.discard', { upload }).catch(() => undefined);
    }
  };
  return (
    <div className="card import" data-testid="image-import">
      <h2>Import an image from a file</h2>
      <div className="row">
        <Field name="import-file" label="Rootfs tarball or image archive (docker save, OCI)">
          <input
            type="file"
            accept=".tar,.tar.gz,.tgz,application/x-tar"
            disabled={busy}
            onChange={(e) => {
              const f = e.target.files?.[0];
              setFile(f);
              if (f && !name) setName(suggestRef(f.name));
            }}
            data-testid="import-file"
          />
        </Field>
        <Field name="import-name" label="Image name" error={file && !name.trim() ? 'is required' : undefined}>
          <input value={name} onChange={(e) => setName(e.target.value)} className="mono" placeholder="mybox:1" disabled={busy} data-testid="import-name" />
        </Field>
      </div>
      {busy && <ProgressBar progress={sending ?? importing?.progress ?? { op: '', label: 'importing', done: 0 }} testId="import-progress" />}
      {error && (
        <div className="banner banner-error" data-testid="import-error">
          {error}
        </div>
      )}
      <div className="row end">
        <button type="button" disabled={!file || !name.trim() || busy} onClick={() => void run()} data-testid="import-start">
          {busy ? 'Importing…' : 'Import'}
        </button>
      </div>
    </div>
  );
}
