-- Record a transaction's decision once; a scheduled one opens its survey (unless one is open
-- on the channel, or the person was invited after ARGV[11]), a suppressed one ends at once.
-- Answers {outcome, value}: ok, exists (the first decision), conflict (the open survey),
-- capped (when last invited).
--#include extend
local existing = redis.call('GET', KEYS[1])
if existing then return {'exists', existing} end
if ARGV[2] == 'scheduled' then
  local open = redis.call('HGET', KEYS[4], 'open:' .. ARGV[5])
  if open then return {'conflict', open} end
  local last = tonumber(redis.call('HGET', KEYS[7], 'invited') or '0')
  if tonumber(ARGV[11]) > 0 and last > tonumber(ARGV[11]) then
    return {'capped', tostring(last)}
  end
  -- the invitation counts against the cap from the moment it is scheduled; the person's
  -- key (caps and open surveys) is kept as long as a cap or the survey can still need it
  redis.call('HSET', KEYS[4], 'open:' .. ARGV[5], ARGV[4], 'invited', ARGV[6])
  _extend(KEYS[4], ARGV[12])
  redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[8])
  redis.call('ZADD', KEYS[3], ARGV[6], ARGV[10])
else
  redis.call('XADD', KEYS[5], '*', 'record', ARGV[9])
  redis.call('INCR', KEYS[6])
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[7])
return {'ok', ARGV[1]}
