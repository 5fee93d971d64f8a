/** A few lines of DOM building, so the screens need no UI framework. */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  setAttrs(element, attrs);
  append(element, children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  setAttrs(element, attrs);
  append(element, children);
  return element;
}

/** A button that acts on click (a tap, a key or a switch device alike). */
export function button(label: Child, attrs: Attrs, onPress: () => void): HTMLButtonElement {
  const element = h('button', { type: 'button', ...attrs }, label);
  element.addEventListener('click', onPress);
  return element;
}

function setAttrs(element: Element, attrs: Attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
}

function append(element: Element, children: Child[]) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'number' ? String(child) : child);
  }
}

/** The screen's root element, from the page shell. */
export function appRoot(): HTMLElement {
  const root = document.querySelector<HTMLElement>('#app');
  if (!root) throw new Error('the page has no #app element');
  return root;
}

/** Batches renders to one per animation frame, however many events arrive in it. */
export function frameScheduler(render: () => void): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      render();
    });
  };
}

/**
 * Sets a region's children to `fresh`, keeping each current child that would be rebuilt the same
 * (same markup): a button in a row that did not change is never replaced under a finger.
 */
export function patchChildren(container: Element, fresh: readonly Element[]): void {
  const current = new Map(Array.from(container.children, (child) => [child.outerHTML, child]));
  const next = fresh.map((element) => {
    const same = current.get(element.outerHTML);
    if (!same) return element;
    current.delete(element.outerHTML);
    return same;
  });
  if (next.length === container.children.length && next.every((element, i) => container.children[i] === element)) return;
  container.replaceChildren(...next);
}

/**
 * How long a button that just appeared ignores taps: longer than a double tap's second touch
 * (about 300 ms), so a tap that began on what was there before never lands on it.
 */
export const ARM_DELAY_MS = 400;

/** Disables `buttons` now and enables them after `ms`: for buttons that appear under a finger. */
export function armLater(buttons: readonly HTMLButtonElement[], ms = ARM_DELAY_MS): void {
  for (const b of buttons) b.disabled = true;
  setTimeout(() => {
    for (const b of buttons) b.disabled = false;
  }, ms);
}
