import type { Role } from '@lockstep/shared/constants';
import QRCode from 'qrcode';
import { screenOf } from './screens.ts';
import { loadJson, saveJson } from './storage.ts';
import { h, svg } from './dom.ts';

/**
 * The links the console hands to devices. A token is returned once, when it is issued; the console
 * keeps the ones it issued in session storage (this tab, until it closes), so a reload still shows
 * every QR code. A member whose token this tab does not hold gets a new link instead.
 */

const HELD_KEY = 'lockstep.ops.links';
const BASE_KEY = 'lockstep.ops.linkBase';

type Held = Record<string, Record<string, string>>;
const isHeld = (value: unknown): value is Held => typeof value === 'object' && value !== null && !Array.isArray(value);

export function heldToken(missionId: string, memberId: string): string | undefined {
  return loadJson(sessionStorage, HELD_KEY, isHeld)?.[missionId]?.[memberId];
}

export function holdToken(missionId: string, memberId: string, token: string): void {
  const held = loadJson(sessionStorage, HELD_KEY, isHeld) ?? {};
  held[missionId] = { ...held[missionId], [memberId]: token };
  saveJson(sessionStorage, HELD_KEY, held);
}

/** Signing out leaves no member's link behind in the tab. */
export function forgetTokens(): void {
  sessionStorage.removeItem(HELD_KEY);
}

/**
 * Where the links point. The console's own address by default; a console opened on localhost
 * must be told the address the tablets can reach (kept in local storage: it is no secret).
 */
export function linkBase(): string {
  return localStorage.getItem(BASE_KEY) ?? location.origin;
}

export function setLinkBase(base: string): void {
  const trimmed = base.trim().replace(/\/+$/, '');
  if (!trimmed || trimmed === location.origin) localStorage.removeItem(BASE_KEY);
  else localStorage.setItem(BASE_KEY, trimmed);
}

export const unreachableFromTablets = (base: string): boolean => /^https?:\/\/(localhost|127\.|\[::1\])/.test(base);

export function memberLink(role: Role, token: string): string {
  return `${linkBase()}${screenOf(role)}?token=${encodeURIComponent(token)}`;
}

/**
 * The link as a QR code, drawn as one SVG path of dark modules with the four-module quiet zone
 * the standard asks for, so a tablet's camera reads it off any screen.
 */
export function qrCode(text: string, label: string, sizePx: number): SVGSVGElement {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const quiet = 4;
  const extent = modules.size + quiet * 2;
  let path = '';
  for (let row = 0; row < modules.size; row++) {
    for (let col = 0; col < modules.size; col++) {
      if (modules.get(row, col)) path += `M${col + quiet} ${row + quiet}h1v1h-1z`;
    }
  }
  return svg(
    'svg',
    {
      class: 'qr',
      width: sizePx,
      height: sizePx,
      viewBox: `0 0 ${extent} ${extent}`,
      role: 'img',
      'aria-label': label,
      'shape-rendering': 'crispEdges',
    },
    svg('rect', { width: extent, height: extent, fill: '#fff' }),
    svg('path', { d: path, fill: '#000' }),
  );
}

/** Copies the link; answers whether it worked, for the button to say so. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard (plain http on another host): select the text so Ctrl+C does it.
    const field = h('textarea', { class: 'copy-fallback', readonly: true }, text);
    document.body.append(field);
    field.select();
    const copied = document.execCommand('copy');
    field.remove();
    return copied;
  }
}
