-- list_dead_letter.lua: the list listener (ListListener.kt) gives up on a message: moves one occurrence from its
-- processing list to its dead list, and forgets its attempt count.
--
-- KEYS[1]  <list><processingSuffix>           list: the messages being handled
-- KEYS[2]  <list><deadSuffix>                 list: dead letters, newest first
-- KEYS[3]  <list><processingSuffix>:attempts  hash: message -> runs
-- ARGV[1]  the message
--
-- Returns 1, or 0 if the message was not in the processing list (then nothing moves).

redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[2], ARGV[1])
return 1
