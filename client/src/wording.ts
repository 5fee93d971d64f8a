import type { ErrorCode, UnableReason } from '@lockstep/shared';
import { spokenGap } from './format.ts';

/**
 * What the handset says into the earpiece, in words a CPO understands without looking:
 * the vehicle, what it did, the cue it did it to, and the gap ("Alpha acknowledged hold,
 * zero point seven"). Never a code.
 */

/** Callsigns are shown in capitals; spoken in capitals a voice spells them out. */
export const spokenCallsign = (callsign: string): string =>
  callsign
    .toLowerCase()
    .split(/[-_\s]+/)
    .filter(Boolean)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');

/** The cue as said: its label up to the dash, without punctuation ("BOX-IN — OPEN GAP" → "box in"). */
export const spokenCue = (label: string): string =>
  (label.split(' — ')[0] ?? label).toLowerCase().replace(/[-_]+/g, ' ').replace(/\s+/g, ' ').trim();

const REASON_WORDS: Readonly<Record<UnableReason, string>> = {
  blocked: 'blocked',
  mechanical: 'mechanical',
  unsafe: 'unsafe',
  'say-again': 'asks say again',
};

export interface AnswerWords {
  callsign: string;
  cueLabel: string;
  response: 'ack' | 'unable';
  reason?: UnableReason | undefined;
  gapMs: number;
  hesitation: boolean;
  /** The gap is the server's measure, not the device's: "about zero point seven". */
  approximate?: boolean;
}

export function answerWords(a: AnswerWords): string {
  const who = spokenCallsign(a.callsign);
  const cue = spokenCue(a.cueLabel);
  const what = a.response === 'ack' ? `acknowledged ${cue}` : `unable ${cue}, ${REASON_WORDS[a.reason ?? 'say-again']}`;
  return `${who} ${what}, ${a.approximate ? 'about ' : ''}${spokenGap(a.gapMs)}${a.hesitation ? ', late' : ''}`;
}

const REFUSAL_WORDS: Readonly<Record<ErrorCode, string>> = {
  unauthorized: 'this handset is no longer on the mission',
  forbidden: 'you may not send that',
  invalid_payload: 'the handset sent something wrong',
  not_found: 'that vehicle or cue is unknown',
  conflict: 'it was already sent',
  mission_not_active: 'the mission is not running',
  expired: 'it came too late',
  unknown_route: 'that route is not in the plan',
  rate_limited: 'too many taps, wait a moment',
  plan_not_acknowledged: 'a driver has not acknowledged the plan',
  internal: 'the server failed',
};

/** A refusal, said as why: "hold refused, the mission is not running". */
export const refusalWords = (cueLabel: string, code: ErrorCode | undefined): string =>
  `${spokenCue(cueLabel)} refused, ${code ? REFUSAL_WORDS[code] : 'no reason given'}`;

/** The same reason on screen, in capitals, for the notice under the banner. */
export const refusalNotice = (cueLabel: string, code: ErrorCode | undefined): string =>
  `${cueLabel} REFUSED — ${(code ? REFUSAL_WORDS[code] : 'no reason given').toUpperCase()}`;

/** What a refused leg mark says where the cue's words would mislead: a leg is marked, not sent. */
const MARK_REFUSAL_WORDS: Readonly<Partial<Record<ErrorCode, string>>> = {
  conflict: 'someone already marked it',
  not_found: 'that leg is no longer in the plan',
  forbidden: 'you may not mark the schedule',
};
const markReason = (code: ErrorCode) => MARK_REFUSAL_WORDS[code] ?? REFUSAL_WORDS[code];

/** A leg mark refused, said as why: "venue not marked, someone already marked it". */
export const markRefusalWords = (leg: string, code: ErrorCode): string => `${leg} not marked, ${markReason(code)}`;

/** The same on screen, in capitals. */
export const markRefusalNotice = (leg: string, code: ErrorCode): string => `${leg} NOT MARKED — ${markReason(code)}`.toUpperCase();

export const tooLateWords = (cueLabel: string): string => `${spokenCue(cueLabel)} not sent in time, use voice`;

export const LINK_WORDS = {
  lost: 'link lost, taps are kept',
  back: 'link back',
  refused: 'link refused, ask ops for a new link',
} as const;
