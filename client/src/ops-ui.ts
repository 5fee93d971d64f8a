import { button, h } from './dom.ts';
import { type ApiError, type OpsApi, describeError } from './ops-api.ts';

/** What every console view is given: the API with the admin token, and a way to move to another view. */
export interface ConsoleContext {
  api: OpsApi;
  navigate(hash: string): void;
  /** A short confirmation of what just happened, or an error, in the console's one message line. */
  say(message: string, tone?: 'done' | 'error'): void;
}

export interface View {
  element: HTMLElement;
  /** Stops the view's timers when the operator leaves it. */
  dispose?(): void;
}

export const sayError = (ctx: ConsoleContext, what: string, error: ApiError) => ctx.say(`${what}: ${describeError(error)}`, 'error');

/**
 * A question the operator must answer before an action that cannot be undone (a forced start,
 * the end, a new link that cuts a tablet off). A modal dialog: nothing else can be pressed meanwhile.
 */
export function confirmAction(title: string, detail: string, yes: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm', 'aria-label': title });
    const close = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    dialog.append(
      h('h2', {}, title),
      h('p', {}, detail),
      h(
        'div',
        { class: 'actions' },
        button(yes, { class: 'primary danger' }, () => close(true)),
        button('Cancel', { class: 'secondary' }, () => close(false)),
      ),
    );
    dialog.addEventListener('cancel', () => close(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A modal with whatever a view puts in it, and a Close button. */
export function openDialog(title: string, ...content: Node[]): { dialog: HTMLDialogElement; close(): void } {
  const dialog = h('dialog', { class: 'panel-dialog', 'aria-label': title });
  const close = () => {
    dialog.close();
    dialog.remove();
  };
  dialog.append(h('div', { class: 'dialog-head' }, h('h2', {}, title), button('Close', { class: 'secondary' }, close)), ...content);
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close };
}

export const field = (labelText: string, control: HTMLElement, hint?: string) =>
  h('label', { class: 'field' }, h('span', {}, labelText), control, hint ? h('small', { class: 'muted' }, hint) : null);

export const dateTime = (at: number | undefined) =>
  at === undefined ? '—' : new Date(at).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', hour12: false });

/** Runs an action once at a time per button: the button is disabled until the server has answered. */
export function busyButton(label: string, attrs: Record<string, string>, action: () => Promise<void>): HTMLButtonElement {
  const element = button(label, attrs, () => {
    if (element.disabled) return;
    element.disabled = true;
    action().finally(() => {
      element.disabled = false;
    });
  });
  return element;
}
