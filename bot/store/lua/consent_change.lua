-- An opt-out (ARGV[1] = '1') or its lifting ('0') of the members ARGV[3..] ("<person>|<scope>")
-- in the shard's opt-out set KEYS[1], handed to the measures store through the ended stream
-- KEYS[2] (field 'consent', ARGV[2]) in the same write, so the store never misses a change
-- Redis took. While the set is being restored (no '!restored' member), a lifting is noted in
-- KEYS[3] so that the restore does not bring back what was just lifted, and every change goes
-- to the store (Redis may not hold yet what the store does). Answers how many members changed.
local restored = redis.call('SISMEMBER', KEYS[1], '!restored') == 1
local changed = 0
for i = 3, #ARGV do
  if ARGV[1] == '1' then
    changed = changed + redis.call('SADD', KEYS[1], ARGV[i])
  else
    changed = changed + redis.call('SREM', KEYS[1], ARGV[i])
    if not restored then redis.call('SADD', KEYS[3], ARGV[i]) end
  end
end
if changed > 0 or not restored then
  redis.call('XADD', KEYS[2], '*', 'consent', ARGV[2])
end
return changed
