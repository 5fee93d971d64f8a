export { buildApp, type AppConfig, type LockstepApp, type StoreConfig } from './app.ts';
export { loadConfig, type ServerConfig } from './config.ts';
export { LISTEN_BACKLOG } from './listen-backlog.ts';
export { createDemoMission } from './demo.ts';
export { MemoryStore } from './store/memory-store.ts';
export { RedisStore, connectRedis } from './store/redis-store.ts';
export { JournaledStore } from './store/journaled-store.ts';
export { OutageJournal, parseJournal, type JournalEntry } from './store/outage-journal.ts';
export type { Store, LogDraft } from './store/store.ts';
export type { TriggerRecord, RecipientRecord } from './rules/trigger-record.ts';
export { newTriggerRecord, triggerState, triggerCue } from './rules/triggers.ts';
export * as timing from './rules/timing.ts';
export { PresenceTracker, PROTOCOL_PRESENCE, presenceState, reportPhase, RTT_REPORT_MS, rttWorthReporting } from './presence/presence.ts';
export { clockEstimate, clockOffset, percentile } from './rules/latency.ts';
export {
  takeToken,
  takeFromAll,
  fullBucket,
  BURST,
  RATE_PER_SECOND,
  SOCKET_LIMIT,
  MEMBER_LIMIT,
  SNAPSHOT_COST,
} from './rules/rate-limit.ts';
export { estimatedBits } from './auth/token-strength.ts';
export { loggablePath } from './auth/tokens.ts';
export { SharedReads } from './missions/shared-reads.ts';
export { MISSION_CACHE_MAX_AGE_MS, MissionCache } from './store/mission-cache.ts';
export { MemberSockets } from './relay/member-sockets.ts';
export { logAsCsv } from './log/mission-log.ts';
export { originAllowed } from './relay/socket-server.ts';
export { RedisPeers, type PeerIo } from './relay/peers.ts';
export { systemClock, type Clock } from './clock.ts';
export { Alerts } from './alerts.ts';
export { Deadlines } from './deadlines.ts';
export { Metrics } from './metrics.ts';
export { ResponseGapTracker } from './gaps/response-gaps.ts';
export type { Fanout } from './fanout.ts';
export { cueOutcomes, gapSummary, tally } from './report/figures.ts';
export { missionReport, scheduleFigures } from './report/mission-report.ts';
export type { ClientEventHandler, ClientEventHandlers, Sender } from './relay/client-events.ts';
export { accept, refuse, type Result } from './refusal.ts';
export { judgeCue, type VehicleCueLoad } from './rules/overload.ts';
export { threatAnswered } from './rules/silence.ts';
export { planAckDeadlines, stillUnacked, unackedDrivers } from './rules/plan-acks.ts';
export { commandAfter } from './rules/succession.ts';
export { hasCommand } from './rules/authority.ts';
