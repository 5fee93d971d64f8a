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

/** KEYS: record, log, log seq. ARGV: expected rev, doc, log drafts... → new rev, or -1 when another writer got there first. */
export const COMPARE_AND_SET = `${APPEND_LOG}
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if rev == 0 or rev ~= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[1], 'rev', rev + 1, 'doc', ARGV[2])
append_log(KEYS[2], KEYS[3], 3, #ARGV)
return rev + 1
`;

/**
 * KEYS: trigger, log, log seq, mission trigger index, then per recipient its cue counter and cue set.
 * ARGV: trigger id, doc, fingerprint, log draft, recipient member ids...
 * → {0} when the id exists, else {1, seq per recipient...}.
 */
export const ISSUE_TRIGGER = `${APPEND_LOG}
if redis.call('EXISTS', KEYS[1]) == 1 then return {0} end
redis.call('HSET', KEYS[1], 'rev', 1, 'doc', ARGV[2], 'fp', ARGV[3])
local out = {1}
for i = 5, #ARGV do
  local k = 5 + (i - 5) * 2
  local seq = redis.call('INCR', KEYS[k])
  redis.call('ZADD', KEYS[k + 1], seq, ARGV[1])
  redis.call('HSET', KEYS[1], 'seq:' .. ARGV[i], seq)
  out[#out + 1] = seq
end
redis.call('RPUSH', KEYS[4], ARGV[1])
append_log(KEYS[2], KEYS[3], 4, 4)
return out
`;

/** KEYS: log, log seq. ARGV: log drafts... */
export const APPEND = `${APPEND_LOG}
append_log(KEYS[1], KEYS[2], 1, #ARGV)
return #ARGV
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
