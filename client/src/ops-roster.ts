import type { Presence } from '@lockstep/shared';
import { h } from './dom.ts';
import type { IssuedLink, PersonWithStats, RosterMember, RosterMission } from './ops-api.ts';
import type { ConsoleContext } from './ops-ui.ts';

/** What the tabs of one mission's page share: the mission as last read, and the page's few actions. */
export interface MissionPage {
  readonly ctx: ConsoleContext;
  /** The mission as last read; a tab is built only once it has been. */
  readonly mission: RosterMission;
  /** The directory, or undefined on a server without it (PROTOCOL.md v1.1). */
  readonly people: PersonWithStats[] | undefined;
  /** A member's presence; 'unwatched' while the console does not follow the mission's events. */
  presence(memberId: string): Presence | undefined | 'unwatched';
  /** Keeps a link just issued and redraws. */
  hold(link: IssuedLink): Promise<void>;
  refresh(): Promise<void>;
  /** The console follows the mission through its BOARD member's link: after a new one, follow anew. */
  rewatch(): void;
}

/** A tab of the mission's page: built once, `render` redraws what depends on the mission. */
export interface MissionTabView {
  element: HTMLElement;
  render(): void;
  renderPresence?(): void;
}

export const isCurrent = (m: RosterMember) => m.replacedAt === undefined;

export const callsignOf = (mission: RosterMission, memberId: string) =>
  mission.members.find((m) => m.memberId === memberId)?.callsign ?? memberId;

export const vehicleOf = (mission: RosterMission, vehicleId: string | undefined) =>
  mission.vehicles.find((v) => v.id === vehicleId)?.callsign ?? vehicleId ?? '';

/** Drivers of the vehicles now who have not acked the plan in force: what makes a start refused. */
export const unackedDrivers = (mission: RosterMission) =>
  mission.plan.version < 1
    ? []
    : mission.members.filter((m) => m.role === 'driver' && isCurrent(m) && mission.planAcks[m.memberId] !== mission.plan.version);

/** Which version of the plan a member acked, as the crew cards and the plan tab say it. */
export function ackWord(mission: RosterMission, member: RosterMember): HTMLElement | null {
  if (mission.plan.version === 0 || !isCurrent(member)) return null;
  const acked = mission.planAcks[member.memberId];
  if (acked === mission.plan.version) return h('span', { class: 'ack ack-done' }, `Plan v${acked} acked`);
  return h(
    'span',
    { class: 'ack ack-missing' },
    acked ? `Acked v${acked}, not v${mission.plan.version}` : `Plan v${mission.plan.version} not acked`,
  );
}
