import type { Member, Mission } from '@lockstep/shared';
import './styles/command.css';
import { h } from './dom.ts';

/**
 * Who holds command (docs/PROTOCOL.md §11), as the handset and the board show it: the lead, or
 * the acting lead while no lead is online; and on the handset that takes over, YOU HAVE COMMAND.
 */

/** Whom this member's triggers may reach now: an acting lead has the lead's reach until a lead is back. */
export function triggerReach(mission: Mission | undefined, self: Member): 'convoy' | 'own-vehicle' | 'none' {
  if (self.role === 'lead' || mission?.actingLeadId === self.memberId) return 'convoy';
  return self.role === 'cpo' ? 'own-vehicle' : 'none';
}

/** `COMMAND LEAD`, or `ACTING LEAD BRAVO-CPO` while a lead is away. */
export function commandWords(mission: Mission): string {
  const acting = mission.members.find((m) => m.memberId === mission.actingLeadId);
  if (acting) return `ACTING LEAD ${acting.callsign}`;
  const leads = mission.members.filter((m) => m.role === 'lead').map((m) => m.callsign);
  return leads.length ? `COMMAND ${leads.join(' · ')}` : 'NO LEAD';
}

/** Where command went from a member who held it: `COMMAND → BRAVO-CPO`, or `COMMAND BACK WITH LEAD`. */
export function commandWentTo(mission: Mission): string {
  const acting = mission.members.find((m) => m.memberId === mission.actingLeadId);
  if (acting) return `COMMAND → ${acting.callsign}`;
  const leads = mission.members.filter((m) => m.role === 'lead').map((m) => m.callsign);
  return `COMMAND BACK WITH ${leads.join(' · ') || 'THE LEAD'}`;
}

export type CommandChange = 'took' | 'handed-back' | undefined;

/** The line that names who commands, and (on the handset) the notice for the member who now does. */
export class CommandStatus {
  readonly line = h('div', { class: 'command-line' });
  readonly notice = h('div', { class: 'command-notice', role: 'alert', hidden: true });
  #hadCommand = false;

  /** Answers how this member's command changed since the last update, for the page to say it aloud. */
  update(mission: Mission | undefined, selfId: string | undefined): CommandChange {
    if (!mission) return undefined;
    this.line.textContent = commandWords(mission);
    this.line.classList.toggle('acting', mission.actingLeadId !== undefined);
    const hasCommand = selfId !== undefined && mission.actingLeadId === selfId;
    this.notice.hidden = !hasCommand;
    if (hasCommand) {
      const from = mission.members.filter((m) => m.role === 'lead').map((m) => m.callsign);
      this.notice.replaceChildren(
        h('div', { class: 'command-title' }, 'YOU HAVE COMMAND'),
        h('div', {}, `${from.join(' · ') || 'The lead'} is offline: every vehicle and the convoy are yours`),
      );
    }
    const change = hasCommand === this.#hadCommand ? undefined : hasCommand ? 'took' : 'handed-back';
    this.#hadCommand = hasCommand;
    return change;
  }
}
