-- Restoring a shard's opt-out set KEYS[1] from the measures store, by the process holding the
-- token ARGV[1] in KEYS[3] (nothing is done, and 0 answered, when it no longer holds it: the
-- key expired, another process took over, or Redis lost its memory again meanwhile).
-- ARGV[2]: 'page' adds the members ARGV[4..] but those lifted during the restore (KEYS[2])
-- and keeps the token ARGV[3] seconds more; 'finish' marks the set restored; 'abandon' lets
-- another process start again.
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
if ARGV[2] == 'page' then
  redis.call('EXPIRE', KEYS[3], ARGV[3])
  for i = 4, #ARGV do
    if redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 0 then redis.call('SADD', KEYS[1], ARGV[i]) end
  end
  return 1
end
if ARGV[2] == 'finish' then
  redis.call('SADD', KEYS[1], '!restored')
  redis.call('DEL', KEYS[2])
end
redis.call('DEL', KEYS[3])
return 1
