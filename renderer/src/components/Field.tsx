import type { ReactNode } from 'react';

/** A labelled form field with its validation message right under it. */
export function Field(props: { name: string; label: string; error?: string | undefined; hint?: string; children: ReactNode }) {
  return (
    <label className={`field ${props.error ? 'has-error' : ''}`}>
      <span className="field-label">{props.label}</span>
      {props.children}
      {props.hint && !props.error && <span className="hint">{props.hint}</span>}
      {props.error && (
        <span className="field-error" role="alert" data-testid={`error-${props.name}`}>
          {props.error}
        </span>
      )}
    </label>
  );
}
