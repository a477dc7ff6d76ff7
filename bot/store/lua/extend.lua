-- Extend a key's life to at least ttl seconds from now (EXPIRE GT needs Redis 7; the
-- embedded Redis is 6.2). Included by the scripts that use it.
local function _extend(key, ttl)
  if redis.call('TTL', key) < tonumber(ttl) then redis.call('EXPIRE', key, ttl) end
end
