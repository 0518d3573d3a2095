package picket.samples

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import java.io.PrintStream
import java.net.URI
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration

/**
 * The monitor's command-line client (the seed's `info_client.py`): asks an [InfoServer] (or any `MonitorServer`) and
 * prints the answer, one block per node.
 *
 * Arguments: `--url=http://127.0.0.1:9380`, `--node=id,id`, `--key=name,name`, `--prefix` (keys are prefixes),
 * `--section=name,name`, `--group=`, `--master=`, `--role=master|replica|sentinel`, `--max-age=seconds`,
 * `--allow-partial`, `--refresh` (poll the nodes first), `--int64=string`, `--nodes` (every node's state),
 * `--metrics` (the Prometheus text). Exit status 1 on an error answer.
 */
object InfoClient {
    @JvmStatic
    fun main(args: Array<String>) {
        val status = run(args, System.out)
        if (status != 0) System.exit(status)
    }

    /** Runs the client, printing to [out]; returns the exit status. */
    fun run(
        args: Array<String>,
        out: PrintStream,
    ): Int {
        val options = Args(args).values
        val base = options["url"] ?: "http://127.0.0.1:9380"
        val params = queryString(options)
        val path =
            when {
                "metrics" in options -> "/metrics"
                "nodes" in options -> "/nodes"
                "refresh" in options -> "/refresh"
                else -> "/info"
            }
        val request =
            HttpRequest
                .newBuilder(URI("$base$path" + if (params.isEmpty()) "" else "?$params"))
                .timeout(Duration.ofSeconds(TIMEOUT_SECONDS))
                .let { if (path == "/refresh") it.POST(HttpRequest.BodyPublishers.noBody()) else it.GET() }
                .build()
        val response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString())
        if (path == "/metrics") {
            out.print(response.body())
            return if (response.statusCode() == OK) 0 else 1
        }
        val body = ObjectMapper().readTree(response.body())
        body["error"]?.let { error ->
            out.println("error ${error["status"].asInt()}: ${error["type"].asText()}: ${error["message"].asText()}")
            return 1
        }
        body["nodes"].forEach { print(it, out) }
        return 0
    }

    /** The server's query parameters from the client's options. */
    private fun queryString(options: Map<String, String>): String =
        PARAMETERS
            .mapNotNull { (option, parameter) ->
                options[option]?.let { value -> parameter to (if (option in FLAGS) "true" else value) }
            }.joinToString("&") { (k, v) -> "$k=${URLEncoder.encode(v, Charsets.UTF_8)}" }

    private val PARAMETERS =
        listOf(
            "node" to "node",
            "key" to "key",
            "prefix" to "prefix",
            "section" to "section",
            "group" to "group",
            "master" to "master",
            "role" to "role",
            "max-age" to "max_age",
            "allow-partial" to "allow_partial",
            "int64" to "int64",
        )
    private val FLAGS = setOf("prefix", "allow-partial")

    private fun print(
        node: JsonNode,
        out: PrintStream,
    ) {
        val meta = node["meta"]
        val age = meta["info_age_seconds"]?.takeIf { !it.isNull }?.let { "%.2f s".format(it.asDouble()) } ?: "none"
        out.println(
            "${meta["node_id"].asText()}  ${meta["role"]?.asText()}  info age $age" +
                (if (meta["down"]?.asBoolean() == true) "  DOWN: ${meta["last_error"].asText()}" else ""),
        )
        node["error"]?.let { out.println("    error: ${it["type"].asText()}: ${it["message"].asText()}") }
        node["info"]?.properties()?.forEach { (key, value) -> out.println("    $key = $value") }
        node["polls"]?.let {
            out.println(
                "    polls ${it.asLong()}, interval ${meta["interval_seconds"].asDouble()} s",
            )
        }
    }

    private const val TIMEOUT_SECONDS = 10L
    private const val OK = 200
}
