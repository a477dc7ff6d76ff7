-- Move invitations whose time has come (score <= ARGV[1], at most ARGV[2]) from the
-- schedule to the send stream.
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], '*', 'ref', id)
end
return #ids
