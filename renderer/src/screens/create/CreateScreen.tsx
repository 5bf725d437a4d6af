import type { FormEvent, ReactNode } from 'react';
import { go } from '../../router.js';
import { FormButtons } from './boxes.js';

/** The frame every create form shares: the heading, the form, and its Cancel/Create row. */
export function CreateScreen(props: { title: string; testId: string; busy: string | undefined; onSubmit: (e: FormEvent) => void; children: ReactNode }) {
  return (
    <section className="screen">
      <header className="screen-head">
        <h1>{props.title}</h1>
      </header>
      <form className="form" onSubmit={props.onSubmit} noValidate data-testid={props.testId}>
        {props.children}
        <FormButtons busy={props.busy} onCancel={() => go({ screen: 'workloads' })} />
      </form>
    </section>
  );
}
