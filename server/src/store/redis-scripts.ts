import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Lua run atomically by Redis. Log drafts arrive as JSON objects without `seq`;
 * the script splices the next seq in, so a record and its log line are written together.
 */
const APPEND_LOG = `
local function append_log(log_key, seq_key, first, last)
  for i = first, last do
    local seq = redis.call('INCR', seq_key)
    redis.call('RPUSH', log_key, '{"seq":' .. seq .. ',' .. string.sub(ARGV[i], 2))
  end
end
`;

/** KEYS: record, log, log seq, index list. ARGV: id, doc, fingerprint, log drafts... → 1 created, 0 existed. */
export const CREATE = `${APPEND_LOG}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'rev', 1, 'doc', ARGV[2], 'fp', ARGV[3])
redis.call('RPUSH', KEYS[4], ARGV[1])
append_log(KEYS[2], KEYS[3], 4, #ARGV)
return 1
`;

/** Sets and clears deadlines from ARGV[first..]: a count of (key, at) pairs, the pairs, then keys to clear. */
const APPLY_DEADLINES = `
local function apply_deadlines(deadline_key, first)
  local scheduled = tonumber(ARGV[first])
  for i = first + 1, first + scheduled * 2, 2 do
    redis.call('ZADD', deadline_key, ARGV[i + 1], ARGV[i])
  end
  for i = first + 1 + scheduled * 2, #ARGV do
    redis.call('ZREM', deadline_key, ARGV[i])
  end
end
`;

/**
 * KEYS: record, log, log seq, deadlines, and optionally a channel to announce the write on.
 * ARGV: expected rev, doc, log count, log drafts..., then the deadline changes → new rev, or -1
 * when another writer got there first. The announcement is "<new rev> <record key>".
 */
export const COMPARE_AND_SET = `${APPEND_LOG}${APPLY_DEADLINES}
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if rev == 0 or rev ~= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[1], 'rev', rev + 1, 'doc', ARGV[2])
if KEYS[5] then redis.call('PUBLISH', KEYS[5], (rev + 1) .. ' ' .. KEYS[1]) end
local logged = tonumber(ARGV[3])
append_log(KEYS[2], KEYS[3], 4, 3 + logged)
apply_deadlines(KEYS[4], 4 + logged)
return rev + 1
`;

/**
 * KEYS: trigger, log, log seq, mission trigger index, deadlines, then per recipient its cue counter and cue set.
 * ARGV: trigger id, doc, fingerprint, log draft, recipient count, then per recipient its member id and a seq
 * (0: take the next; a journaled trigger brings the seq its devices already saw), then the deadline changes.
 * → {0} when the id exists, else {1, seq per recipient...}.
 */
export const ISSUE_TRIGGER = `${APPEND_LOG}${APPLY_DEADLINES}
if redis.call('EXISTS', KEYS[1]) == 1 then return {0} end
redis.call('HSET', KEYS[1], 'rev', 1, 'doc', ARGV[2], 'fp', ARGV[3])
local out = {1}
local recipients = tonumber(ARGV[5])
for r = 1, recipients do
  local k = 6 + (r - 1) * 2
  local member = ARGV[6 + (r - 1) * 2]
  local seq = tonumber(ARGV[7 + (r - 1) * 2])
  if seq > 0 then
    if tonumber(redis.call('GET', KEYS[k]) or '0') < seq then redis.call('SET', KEYS[k], seq) end
  else
    seq = redis.call('INCR', KEYS[k])
  end
  redis.call('ZADD', KEYS[k + 1], seq, ARGV[1])
  redis.call('HSET', KEYS[1], 'seq:' .. member, seq)
  out[#out + 1] = seq
end
redis.call('RPUSH', KEYS[4], ARGV[1])
append_log(KEYS[2], KEYS[3], 4, 4)
apply_deadlines(KEYS[5], 6 + recipients * 2)
return out
`;

/** KEYS: record. ARGV: doc → 1 created, 0 it existed (left as it was). */
export const CREATE_IF_ABSENT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'rev', 1, 'doc', ARGV[1])
return 1
`;

/**
 * COMPARE_AND_SET for a trigger whose change adds recipients (§9). KEYS: trigger, log, log seq,
 * deadlines, then per added recipient its cue counter and cue set. ARGV: expected rev, doc,
 * trigger id, added count, their member ids..., log count, log drafts..., then the deadline
 * changes → {new rev, seq per added recipient...}, or {-1} when another writer got there first.
 */
export const HAND_OVER_CUE = `${APPEND_LOG}${APPLY_DEADLINES}
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if rev == 0 or rev ~= tonumber(ARGV[1]) then return {-1} end
redis.call('HSET', KEYS[1], 'rev', rev + 1, 'doc', ARGV[2])
local out = {rev + 1}
local added = tonumber(ARGV[4])
for r = 1, added do
  local k = 5 + (r - 1) * 2
  local seq = redis.call('INCR', KEYS[k])
  redis.call('ZADD', KEYS[k + 1], seq, ARGV[3])
  redis.call('HSET', KEYS[1], 'seq:' .. ARGV[4 + r], seq)
  out[#out + 1] = seq
end
local first = 5 + added
local logged = tonumber(ARGV[first])
append_log(KEYS[2], KEYS[3], first + 1, first + logged)
apply_deadlines(KEYS[4], first + 1 + logged)
return out
`;

/** KEYS: record, index list. ARGV: id, doc → 1 created, 0 existed. A record outside any mission: no log. */
export const CREATE_UNLOGGED = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'rev', 1, 'doc', ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
`;

/** KEYS: record. ARGV: expected rev, doc → new rev, or -1 when another writer got there first. */
export const SET_IF_REV = `
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if rev == 0 or rev ~= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[1], 'rev', rev + 1, 'doc', ARGV[2])
return rev + 1
`;

/** KEYS: log, log seq. ARGV: log drafts... */
export const APPEND = `${APPEND_LOG}
append_log(KEYS[1], KEYS[2], 1, #ARGV)
return #ARGV
`;

/**
 * KEYS: per entry its mission's presence hash, owner hash, log and log seq. ARGV: per entry its
 * member id, presence json, device id, only-if-owner (1/0), log count, log drafts... → per entry
 * 1 saved, 0 not the owner.
 */
export const SAVE_PRESENCES = `${APPEND_LOG}
local saved = {}
local a = 1
for e = 1, #KEYS / 4 do
  local k = (e - 1) * 4
  local member, device, logged = ARGV[a], ARGV[a + 2], tonumber(ARGV[a + 4])
  local owner = redis.call('HGET', KEYS[k + 2], member)
  if ARGV[a + 3] == '1' and owner and owner ~= device then
    saved[e] = 0
  else
    redis.call('HSET', KEYS[k + 1], member, ARGV[a + 1])
    redis.call('HSET', KEYS[k + 2], member, device)
    append_log(KEYS[k + 3], KEYS[k + 4], a + 5, a + 4 + logged)
    saved[e] = 1
  end
  a = a + 5 + logged
end
return saved
`;

/** KEYS: deadline set. ARGV: now, lease until, limit → the due keys, each pushed back to its lease end. */
export const CLAIM_DEADLINES = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, key in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], key) end
return due
`;

/**
 * The first of a snapshot's two round trips. KEYS: mission, trigger index, alert index, observation
 * index, presence hash. ARGV: how many recent triggers, how many recent observations, alerts and
 * presence too (1/0) → {mission doc or false, trigger ids, alert ids, observation ids, presence as field/value pairs}.
 */
export const READ_MISSION_INDEX = `
local doc = redis.call('HGET', KEYS[1], 'doc')
if not doc then return {false, {}, {}, {}, {}} end
local function recent(key, limit)
  if limit <= 0 then return {} end
  return redis.call('LRANGE', key, -limit, -1)
end
local watched = ARGV[3] == '1'
return {
  doc,
  recent(KEYS[2], tonumber(ARGV[1])),
  watched and redis.call('LRANGE', KEYS[3], 0, -1) or {},
  recent(KEYS[4], tonumber(ARGV[2])),
  watched and redis.call('HGETALL', KEYS[5]) or {},
}
`;

/** The second: KEYS: records → each record's hash as field/value pairs (empty for a missing one). */
export const READ_RECORDS = `
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HGETALL', key) end
return out
`;

/** Runs a script by its SHA, loading it on the first NOSCRIPT (a restarted or failed-over Redis). */
export class Script {
  readonly #sha: string;
  constructor(readonly source: string) {
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
