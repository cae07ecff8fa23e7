using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tallystick.Server.Deltas;

namespace Tallystick.Server.Health;

/// <summary>
/// Server-side request durations per route, as Prometheus histograms at <c>GET /metrics</c>, with the
/// pipeline's gauges. Durations run from the moment the request reaches the middleware to the moment its handler
/// has written the response (not the socket flush), so they are the server's own time, without the client's or
/// the network's. Lock-free: one <see cref="Interlocked"/> increment per bucket hit.
/// </summary>
internal sealed class RequestMetrics
{
    /// <summary>Histogram bucket upper bounds, in seconds (Prometheus <c>le</c>), ascending.</summary>
    public static readonly double[] BucketsSeconds =
        [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Distinct (method, route) series at most; requests beyond it are counted under route "other".</summary>
    public const int SeriesMax = 200;

    private readonly ConcurrentDictionary<(string Method, string Route), Histogram> _series = new();

    private sealed class Histogram
    {
        public readonly long[] Buckets = new long[BucketsSeconds.Length + 1];
        public long Count;
        public long SumTicks;
    }

    public void Record(string method, string route, long elapsedTicks)
    {
        var key = (method, route);
        if (!_series.TryGetValue(key, out var histogram))
        {
            histogram = _series.Count < SeriesMax ? _series.GetOrAdd(key, _ => new Histogram())
                : _series.GetOrAdd((method, "other"), _ => new Histogram());
        }
        var seconds = (double)elapsedTicks / Stopwatch.Frequency;
        var bucket = Array.BinarySearch(BucketsSeconds, seconds);
        Interlocked.Increment(ref histogram.Buckets[bucket >= 0 ? bucket : ~bucket]);
        Interlocked.Increment(ref histogram.Count);
        Interlocked.Add(ref histogram.SumTicks, elapsedTicks);
    }

    /// <summary>The Prometheus text exposition (version 0.0.4).</summary>
    public string Render(LogHead head, int queuedDeltas, long uncopiedRows)
    {
        var text = new StringBuilder(4096);
        text.Append("# HELP tally_http_request_duration_seconds Server-side request duration by route.\n")
            .Append("# TYPE tally_http_request_duration_seconds histogram\n");
        foreach (var ((method, route), h) in _series.OrderBy(s => s.Key.Route, StringComparer.Ordinal)
                     .ThenBy(s => s.Key.Method, StringComparer.Ordinal))
        {
            var labels = $"method=\"{method}\",route=\"{Escape(route)}\"";
            long cumulative = 0;
            for (var i = 0; i < BucketsSeconds.Length; i++)
            {
                cumulative += Volatile.Read(ref h.Buckets[i]);
                text.Append(CultureInfo.InvariantCulture,
                    $"tally_http_request_duration_seconds_bucket{{{labels},le=\"{BucketsSeconds[i].ToString("R", CultureInfo.InvariantCulture)}\"}} {cumulative}\n");
            }
            cumulative += Volatile.Read(ref h.Buckets[^1]);
            text.Append(CultureInfo.InvariantCulture, $"tally_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {cumulative}\n");
            var sum = ((double)Volatile.Read(ref h.SumTicks) / Stopwatch.Frequency).ToString("R", CultureInfo.InvariantCulture);
            text.Append(CultureInfo.InvariantCulture, $"tally_http_request_duration_seconds_sum{{{labels}}} {sum}\n");
            text.Append(CultureInfo.InvariantCulture, $"tally_http_request_duration_seconds_count{{{labels}}} {Volatile.Read(ref h.Count)}\n");
        }
        Gauge(text, "tally_log_sequenced_entries", "Log entries sequenced (durable, not necessarily signed).", head.SequencedSize);
        Gauge(text, "tally_log_checkpoint_size", "Size of the latest published signed checkpoint.", head.CheckpointSize);
        Gauge(text, "tally_sequencer_queued_deltas", "Deltas waiting for the sequencer.", queuedDeltas);
        Gauge(text, "tally_customer_rows_uncopied_deltas",
            "Durable deltas not yet copied into customer-rows.db (their rows are read from the ledger).", uncopiedRows);
        return text.ToString();
    }

    private static void Gauge(StringBuilder text, string name, string help, long value) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n");

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}

/// <summary>Wires <see cref="RequestMetrics"/> into the pipeline and maps <c>GET /metrics</c>.</summary>
internal static class MetricsEndpoints
{
    public static void UseRequestMetrics(this WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<RequestMetrics>();
        app.Use(async (context, next) =>
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                await next();
            }
            finally
            {
                // Routing ran before this middleware (WebApplication puts it first), so the endpoint is known.
                var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
                metrics.Record(context.Request.Method, route, Stopwatch.GetTimestamp() - start);
            }
        });
    }

    public static void MapMetrics(this IEndpointRouteBuilder app) =>
        app.MapGet("/metrics", (RequestMetrics metrics, Sequencer sequencer, CustomerRows rows) =>
                Results.Text(metrics.Render(sequencer.Head, sequencer.QueuedDeltas,
                    Math.Max(0, sequencer.Head.DeltasBelow - rows.Below)), "text/plain; version=0.0.4; charset=utf-8"))
            .WithName("Metrics").ExcludeFromDescription();
}
