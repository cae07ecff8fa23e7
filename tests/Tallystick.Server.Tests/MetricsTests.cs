using System.Globalization;
using System.Text.RegularExpressions;

namespace Tallystick.Server.Tests;

// Goal: /metrics exposes per-route server-side latency histograms and the pipeline gauges in Prometheus text form.
// Method: make known requests, then parse the exposition and check counts, cumulative buckets and gauges.
public sealed partial class MetricsTests(RunningServer server) : IClassFixture<RunningServer>
{
    [Fact]
    public async Task Metrics_AfterRequests_CountThemPerRouteInCumulativeBuckets()
    {
        using var client = server.Client();
        for (var i = 0; i < 3; i++)
        {
            var (status, body) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("metrics_c", "1"));
            Assert.Equal(201, status);
            await Api.WaitVerified(client, body.GetProperty("data").GetProperty("recordId").GetString()!);
        }
        await Api.Get(client, "api/v1/balance/derive/metrics_c");
        await Api.Get(client, "api/v1/balance/derive/metrics_c");

        var text = await client.GetStringAsync(new Uri("metrics", UriKind.Relative));

        const string Emit = "method=\"POST\",route=\"/api/v1/balance/delta\"";
        const string Derive = "method=\"GET\",route=\"/api/v1/balance/derive/{customerId}\"";
        Assert.Equal(3, Value(text, $"tally_http_request_duration_seconds_count{{{Emit}}}"));
        Assert.Equal(2, Value(text, $"tally_http_request_duration_seconds_count{{{Derive}}}"));
        Assert.Equal(3, Value(text, $"tally_http_request_duration_seconds_bucket{{{Emit},le=\"+Inf\"}}"));
        var buckets = BucketLine().Matches(text).Where(m => m.Groups[1].Value == Emit)
            .Select(m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(17, buckets.Count);
        Assert.Equal(buckets.Order(), buckets); // cumulative
        Assert.True(Value(text, $"tally_http_request_duration_seconds_sum{{{Emit}}}") > 0);
        Assert.True(Value(text, "tally_log_checkpoint_size") >= 3);
        Assert.Equal(0, Value(text, "tally_sequencer_queued_deltas"));
    }

    private static double Value(string text, string series)
    {
        var line = text.Split('\n').Single(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    [GeneratedRegex("^tally_http_request_duration_seconds_bucket\\{(.*),le=\"[^\"]+\"\\} (\\d+)$", RegexOptions.Multiline)]
    private static partial Regex BucketLine();
}
