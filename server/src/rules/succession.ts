import type { Mission, Presence } from '@lockstep/shared';

/**
 * docs/PROTOCOL.md §11, succession of command. Pure: the mission, the presence of its members,
 * and the time. A member counts as online while `online` or `stale`; one never seen counts as
 * gone since the mission started.
 */
export interface CommandDecision {
  /** Who holds the lead's authority without being a lead: undefined while a lead is online (or none is due). */
  actingLeadId: string | undefined;
  /** Whom the authority passes from when it passes now: the acting lead who dropped, or the last lead seen. */
  fromMemberId?: string | undefined;
  /** When the passing of time alone may change the answer (a grace running out): look again then. */
  reviewAt?: number;
}

type Members = Pick<Mission, 'status' | 'members' | 'plan' | 'settings' | 'startedAt' | 'actingLeadId'>;

/** Online for command (§11): `online` or `stale`. */
export const isOnline = (p: Presence | undefined): boolean => p?.state === 'online' || p?.state === 'stale';

export function commandAfter(mission: Members, presence: ReadonlyMap<string, Presence>, now: number): CommandDecision {
  const current = mission.actingLeadId;
  if (mission.status !== 'active') return { actingLeadId: current };
  const grace = mission.settings.offlineGraceMs;
  const goneSince = (memberId: string) => {
    const p = presence.get(memberId);
    return p ? (p.offlineSince ?? p.lastSeenAt) : (mission.startedAt ?? now);
  };
  const member = (memberId: string) => mission.members.find((m) => m.memberId === memberId);

  const leads = mission.members.filter((m) => m.role === 'lead');
  if (leads.some((m) => isOnline(presence.get(m.memberId)))) return { actingLeadId: undefined };

  // No lead online: command passes only once every lead has been gone for the grace.
  const lastLead = leads.reduce<{ memberId: string; since: number } | undefined>((latest, m) => {
    const since = goneSince(m.memberId);
    return latest && latest.since >= since ? latest : { memberId: m.memberId, since };
  }, undefined);
  const leadsGoneAt = lastLead?.since ?? mission.startedAt ?? now;
  if (now < leadsGoneAt + grace) return { actingLeadId: current, reviewAt: leadsGoneAt + grace };

  // The acting lead keeps command while online, and through a grace of their own once gone.
  if (current && member(current)) {
    if (isOnline(presence.get(current))) return { actingLeadId: current };
    const until = goneSince(current) + grace;
    if (now < until) return { actingLeadId: current, reviewAt: until };
  }
  const line = (mission.plan.successionOfCommand ?? []).filter((id) => {
    const role = member(id)?.role;
    return role === 'cpo' || role === 'lead';
  });
  const next = line.find((id) => id !== current && isOnline(presence.get(id)));
  // Nobody in line is online: whoever holds command keeps it (or nobody does) until someone in line comes online.
  if (!next) return { actingLeadId: current && member(current) ? current : undefined };
  return { actingLeadId: next, fromMemberId: current && member(current) ? current : lastLead?.memberId };
}
