using System.Globalization;

namespace Tallystick.Bench;

/// <summary>
/// A route's server-side latency histogram read from the server's <c>/metrics</c> (Prometheus text), so a
/// percentile "in the server" is measured by the server, without loopback and client scheduling. Percentiles
/// are bucket upper bounds: "p99 ≤ 2 ms" holds exactly when the 2 ms bucket holds 99% of the requests.
/// </summary>
internal sealed record ServerHistogram(IReadOnlyList<(double UpperSeconds, long Cumulative)> Buckets)
{
    public static async Task<ServerHistogram> ReadAsync(Uri baseUri, string method, string route)
    {
        using var client = new HttpClient();
        var text = await client.GetStringAsync(new Uri(baseUri, "/metrics"));
        var prefix = $"tally_http_request_duration_seconds_bucket{{method=\"{method}\",route=\"{route}\",le=\"";
        var buckets = new List<(double, long)>();
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }
            var rest = line[prefix.Length..];
            var le = rest[..rest.IndexOf('"', StringComparison.Ordinal)];
            var count = long.Parse(rest[(rest.IndexOf("} ", StringComparison.Ordinal) + 2)..], CultureInfo.InvariantCulture);
            buckets.Add((le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture), count));
        }
        return new ServerHistogram(buckets);
    }

    public long Count => Buckets.Count == 0 ? 0 : Buckets[^1].Cumulative;

    /// <summary>The requests recorded since <paramref name="before"/> (same route, an earlier scrape).</summary>
    public ServerHistogram Since(ServerHistogram before) => new(Buckets
        .Select((b, i) => (b.UpperSeconds, b.Cumulative - (i < before.Buckets.Count ? before.Buckets[i].Cumulative : 0)))
        .ToList());

    /// <summary>The smallest bucket bound (ms) holding at least fraction <paramref name="q"/> of the requests.</summary>
    public double PercentileUpperMs(double q)
    {
        var needed = (long)Math.Ceiling(q * Count);
        foreach (var (upper, cumulative) in Buckets)
        {
            if (cumulative >= needed)
            {
                return upper * 1000;
            }
        }
        return double.PositiveInfinity;
    }
}
