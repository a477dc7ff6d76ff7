-- A survey record's change: -1 when the inbound message ARGV[9] was handled already (a
-- field of the person's inbound hash KEYS[9]). A survey that ends is handed off to the ended
-- stream and leaves: its record (the stream holds it until the store has it), its open
-- pointer, its timers and any schedule entry; a small closed pointer stays for late replies.
--#include extend
if KEYS[9] and redis.call('HEXISTS', KEYS[9], ARGV[9]) == 1 then return -1 end
--#include compare_and_set
if KEYS[9] then
  redis.call('HSET', KEYS[9], ARGV[9], '1')
  redis.call('EXPIRE', KEYS[9], ARGV[8])
end
if ARGV[7] ~= '' then
  redis.call('HSET', KEYS[6], 'responded', ARGV[7])
  _extend(KEYS[6], ARGV[10])
end
if ARGV[3] == '1' then
  local open = redis.call('HGET', KEYS[2], 'open:' .. ARGV[4])
  if open and string.sub(open, -string.len(ARGV[5])) == ARGV[5] then
    redis.call('HDEL', KEYS[2], 'open:' .. ARGV[4])
  end
  redis.call('HSET', KEYS[3], ARGV[4], ARGV[11])
  redis.call('EXPIRE', KEYS[3], ARGV[6])
  redis.call('XADD', KEYS[4], '*', 'record', ARGV[2])
  redis.call('INCR', KEYS[5])
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[7], 'survey:' .. ARGV[12], 'remind:' .. ARGV[12],
             'expire:' .. ARGV[12])
  redis.call('ZREM', KEYS[8], ARGV[12])
end
return 1
