-- For a person: the scopes (ARGV[2..], as "<person>|<scope>" members of the shard's opt-out
-- set) opted out of, the open survey on the channel ARGV[1], the cap timings, and whether the
-- set is restored (0: its opt-outs are being restored from the measures store: ask it).
local timing = redis.call('HMGET', KEYS[3], 'invited', 'responded')
local opted = {}
for i = 2, #ARGV do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 1 then opted[#opted + 1] = ARGV[i] end
end
return {opted, redis.call('HGET', KEYS[2], 'open:' .. ARGV[1]) or '', timing[1] or '',
        timing[2] or '', redis.call('SISMEMBER', KEYS[1], '!restored')}
