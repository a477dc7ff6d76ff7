-- Acknowledge and delete a stream entry (ARGV[2]) of group ARGV[1]; forget its retry count
-- (KEYS[2]); with KEYS[3], append ARGV[3..] there (a dead letter).
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if KEYS[2] then redis.call('HDEL', KEYS[2], ARGV[2]) end
if KEYS[3] then redis.call('XADD', KEYS[3], '*', unpack(ARGV, 3)) end
return 1
