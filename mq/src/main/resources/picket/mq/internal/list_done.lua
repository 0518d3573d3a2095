-- list_done.lua: the list listener (ListListener.kt) is done with a message that failed or was recovered before:
-- removes one occurrence from its processing list and forgets its attempt count (the others have none, and are
-- removed with a plain LREM).
--
-- KEYS[1]  <list><processingSuffix>           list: the messages being handled
-- KEYS[2]  <list><processingSuffix>:attempts  hash: message -> runs
-- ARGV[1]  the message
--
-- Returns what LREM did: 1 removed, 0 not there.

redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('LREM', KEYS[1], -1, ARGV[1])
