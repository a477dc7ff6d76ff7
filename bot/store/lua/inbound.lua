-- An inbound message: is its id new, the person's open survey on the channel (and its record),
-- and any opt-out (1; 0: none; -1: none in Redis, whose opt-outs are being restored from the
-- measures store: ask it). The survey key is built here, not declared: it carries the
-- person's shard tag, so it lives in the same cluster slot as the declared keys.
local first = redis.call('HEXISTS', KEYS[1], ARGV[3]) == 0
local open = redis.call('HGET', KEYS[2], 'open:' .. ARGV[1])
local optout = 0
for i = 4, #ARGV do
  if redis.call('SISMEMBER', KEYS[3], ARGV[i]) == 1 then optout = 1 end
end
if optout == 0 and redis.call('SISMEMBER', KEYS[3], '!restored') == 0 then optout = -1 end
local record = ''
if first and open then
  local id = string.sub(open, string.find(open, ':', 1, true) + 1)
  record = redis.call('GET', ARGV[2] .. id) or ''
end
return {first and 1 or 0, open or '', optout, record}
