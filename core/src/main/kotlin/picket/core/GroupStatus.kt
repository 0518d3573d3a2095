package picket.core

/**
 * A snapshot of one sentinel group, for health pages and debugging. It holds no password.
 *
 * @property name the group's name.
 * @property sentinels the sentinels in the order the next resolution asks them: the last good one first, then
 *   discovered ones, then configured ones.
 * @property lastGoodSentinel the sentinel that answered last, or null.
 * @property subscriptions each subscribed sentinel and whether its subscription is established now.
 * @property masters the cached master of each master name.
 * @property replicas the cached healthy replicas of each master name.
 * @property epochs the highest Sentinel `config-epoch` followed for each master name: answers with a lower one
 *   (a sentinel in a minority partition, or one that was paused through a failover) are ignored.
 * @property resolutionRounds how many times the sentinels were asked (for a master or its replicas) since the group
 *   was declared: steady traffic on a warm cache leaves it unchanged.
 * @property cacheHits per master name, how many master blocks found their master in the cache, without asking.
 */
public data class GroupStatus(
    public val name: String,
    public val sentinels: List<Address>,
    public val lastGoodSentinel: Address?,
    public val subscriptions: Map<Address, Boolean>,
    public val masters: Map<String, Address>,
    public val replicas: Map<String, List<Address>>,
    public val resolutionRounds: Long,
    public val epochs: Map<String, Long> = emptyMap(),
    public val cacheHits: Map<String, Long> = emptyMap(),
)
