-- A compare-and-set of a JSON value (KEYS[1]) on its revision (ARGV[1]), writing ARGV[2];
-- what follows runs only when it wrote. The bot writes "rev" as the first key, so it is read
-- without decoding the whole record (Redis runs scripts one at a time; records are a few KB);
-- anything else (written before that) is decoded. Included by swap and survey_change.
local function _rev(raw)
  local rev = string.match(raw, '^{"rev":(%d+)[,}]')
  if rev then return tonumber(rev) end
  return tonumber(cjson.decode(raw)['rev'] or 0)
end
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
if _rev(raw) ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
