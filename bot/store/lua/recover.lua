-- Put timers a dead worker claimed before ARGV[1] back on the timer set, due at ARGV[2].
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[1], ARGV[2], id)
end
return #ids
