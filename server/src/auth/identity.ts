import type { Member } from '@lockstep/shared';
import type { Store } from '../store/store.ts';
import { hashToken } from './tokens.ts';

/** The one member a token names, and their mission. */
export interface Identity {
  missionId: string;
  member: Member;
}

/** Sockets and HTTP alike: a token names a member while its credential is stored and the mission still lists them. */
export async function memberOfToken(store: Pick<Store, 'findCredential' | 'getMission'>, token: string): Promise<Identity | undefined> {
  const ref = await store.findCredential(hashToken(token));
  if (!ref) return undefined;
  const mission = await store.getMission(ref.missionId);
  const member = mission?.members.find((m) => m.memberId === ref.memberId);
  return member ? { missionId: ref.missionId, member } : undefined;
}
