package picket.monitor.internal

import com.fasterxml.jackson.core.JsonFactory
import com.fasterxml.jackson.core.JsonGenerator
import picket.monitor.InfoEntry
import picket.monitor.InfoMeta
import picket.monitor.InfoResult
import picket.monitor.NodeState
import java.io.OutputStream
import java.time.Duration

/**
 * The HTTP endpoint's JSON, written with Jackson's streaming generator: every [Long] is written digit for digit, so
 * 64-bit integers survive for any reader that keeps them (Jackson, Go, Python); [int64AsString] writes those outside
 * ±(2^53 − 1) as strings instead, for readers (JavaScript) whose numbers are doubles.
 */
internal class JsonWriter(
    private val int64AsString: Boolean,
) {
    fun result(
        result: InfoResult,
        out: OutputStream,
    ) = write(out) { json ->
        json.writeStartObject()
        json.writeArrayFieldStart("nodes")
        result.entries.forEach { entry(json, it) }
        json.writeEndArray()
        json.writeEndObject()
    }

    fun states(
        states: List<NodeState>,
        out: OutputStream,
    ) = write(out) { json ->
        json.writeStartObject()
        json.writeArrayFieldStart("nodes")
        states.forEach { state ->
            json.writeStartObject()
            meta(json, Queries.metaOf(state))
            json.writeNumberField("polls", state.polls)
            json.writeNumberField("consecutive_failures", state.consecutiveFailures)
            json.writeStringField("failing_since", state.failingSince?.toString())
            json.writeStringField("info_command", state.command)
            json.writeStringField("reported_role", state.info?.role)
            json.writeEndObject()
        }
        json.writeEndArray()
        json.writeEndObject()
    }

    fun error(
        type: String,
        message: String,
        status: Int,
        out: OutputStream,
    ) = write(out) { json ->
        json.writeStartObject()
        json.writeObjectFieldStart("error")
        json.writeStringField("type", type)
        json.writeStringField("message", message)
        json.writeNumberField("status", status)
        json.writeEndObject()
        json.writeEndObject()
    }

    private fun entry(
        json: JsonGenerator,
        entry: InfoEntry,
    ) {
        json.writeStartObject()
        meta(json, entry.meta)
        entry.fields?.let { fields ->
            json.writeFieldName("info")
            value(json, fields)
        }
        entry.error?.let { error ->
            json.writeObjectFieldStart("error")
            json.writeStringField("type", error::class.simpleName)
            json.writeStringField("message", error.message)
            json.writeEndObject()
        }
        json.writeEndObject()
    }

    private fun meta(
        json: JsonGenerator,
        meta: InfoMeta,
    ) {
        json.writeObjectFieldStart("meta")
        json.writeStringField("node_id", meta.nodeId)
        json.writeStringField("role", meta.role?.name?.lowercase())
        json.writeStringField("master_name", meta.masterName)
        json.writeStringField("group", meta.group)
        seconds(json, "info_age_seconds", meta.infoAge)
        json.writeStringField("info_at", meta.infoAt?.toString())
        json.writeBooleanField("down", meta.down)
        json.writeStringField("last_error", meta.lastError)
        seconds(json, "interval_seconds", meta.interval)
        json.writeEndObject()
    }

    private fun seconds(
        json: JsonGenerator,
        name: String,
        duration: Duration?,
    ) {
        json.writeFieldName(name)
        if (duration == null) json.writeNull() else json.writeNumber(duration.toNanos() / NANOS_PER_SECOND)
    }

    private fun value(
        json: JsonGenerator,
        value: Any?,
    ) {
        when (value) {
            null -> {
                json.writeNull()
            }

            is Long -> {
                if (int64AsString && (value > MAX_SAFE || value < -MAX_SAFE)) {
                    json.writeString(value.toString())
                } else {
                    json.writeNumber(value)
                }
            }

            is Double -> {
                json.writeNumber(value)
            }

            is Map<*, *> -> {
                json.writeStartObject()
                value.forEach { (k, v) ->
                    json.writeFieldName(k.toString())
                    value(json, v)
                }
                json.writeEndObject()
            }

            else -> {
                json.writeString(value.toString())
            }
        }
    }

    private fun write(
        out: OutputStream,
        body: (JsonGenerator) -> Unit,
    ) {
        FACTORY.createGenerator(out).use { body(it) }
    }

    companion object {
        private val FACTORY = JsonFactory()
        private const val NANOS_PER_SECOND = 1e9

        /** 2^53 − 1: the largest integer every JSON reader holds exactly. */
        const val MAX_SAFE = 9_007_199_254_740_991L
    }
}
