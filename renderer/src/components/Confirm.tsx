import { Modal } from './Modal.js';

/** A question before anything destructive. Escape or Cancel says no; the dangerous button is not the default. */
export function Confirm(props: { title: string; body: string; confirmLabel: string; onConfirm: () => void; onCancel: () => void }) {
  return (
    <Modal title={props.title} onClose={props.onCancel} testId="confirm">
      <p>{props.body}</p>
      <div className="row end">
        <button onClick={props.onCancel} data-testid="confirm-cancel" data-autofocus>
          Cancel
        </button>
        <button className="danger" onClick={props.onConfirm} data-testid="confirm-ok">
          {props.confirmLabel}
        </button>
      </div>
    </Modal>
  );
}
