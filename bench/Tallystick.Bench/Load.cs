using System.Globalization;
using System.Text;

namespace Tallystick.Bench;

internal enum LoadKind
{
    /// <summary>POST /api/v1/balance/delta, one delta, round-robin customers, unique referenceIds.</summary>
    Emit,

    /// <summary>POST /api/v1/balance/delta/batch, 100 deltas over 100 distinct customers, unique referenceIds.</summary>
    Batch,

    /// <summary>GET /api/v1/balance/derive/{customerId} for uniformly random customers.</summary>
    Derive,

    /// <summary>GET /log/tile/0/{N} (no API key needed, one sent anyway) for uniformly random full level-0 hash tiles
    /// N in [0, <see cref="LoadSpec.Customers"/>).</summary>
    Tiles,

    /// <summary>GET {Prefix}{n}{Query} for n uniformly random in [<see cref="LoadSpec.Offset"/>,
    /// Offset + <see cref="LoadSpec.Customers"/>): proofs by leaf index or record id.</summary>
    RandomPath,
}

/// <summary>One closed-loop load run: <see cref="Connections"/> clients, each sending its next request on answer.</summary>
internal sealed record LoadSpec(LoadKind Kind, Uri BaseUri, int Connections, TimeSpan Duration, string Prefix,
    int Customers, string Query = "", long Offset = 0);

/// <summary>What a load run measured. Latencies are per request, measured by the load generator.</summary>
internal sealed record LoadResult(long Requests, long Failed, double Seconds, double P50Ms, double P90Ms, double P99Ms,
    double MaxMs, string FailureDetail)
{
    /// <summary>Successful (2xx) requests per second.</summary>
    public double OkPerSecond => Seconds > 0 ? (Requests - Failed) / Seconds : 0;
}

/// <summary>A load generator: wrk (with a Lua script) when installed, else the built-in HttpClient one.</summary>
internal interface ILoadGenerator
{
    string Description { get; }

    Task<LoadResult> RunAsync(LoadSpec spec);
}

/// <summary>The request bodies every generator sends (the wrk Lua scripts build the same text).</summary>
internal static class Bodies
{
    public const int BatchSize = 100;

    public static string CustomerId(long index) => "cust_" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>The tlog-tiles path of tile index <paramref name="index"/>: 3-digit groups, all but the last
    /// prefixed with "x" (1234067 → x001/x234/067).</summary>
    public static string TilePath(long index)
    {
        var digits = index.ToString(CultureInfo.InvariantCulture);
        digits = new string('0', (3 - digits.Length % 3) % 3) + digits;
        var parts = Enumerable.Range(0, digits.Length / 3).Select(i => digits.Substring(i * 3, 3)).ToList();
        return string.Join('/', parts.Select((p, i) => i < parts.Count - 1 ? "x" + p : p));
    }

    public static byte[] Emit(long customer, string referenceId) =>
        Encoding.UTF8.GetBytes(Item(new StringBuilder(128), customer, referenceId).ToString());

    /// <summary>A batch of the items <paramref name="first"/> .. first+count-1 of a global numbering.</summary>
    public static byte[] Batch(long first, int count, Func<long, long> customerOf, string prefix)
    {
        var text = new StringBuilder(count * 100 + 16).Append("{\"deltas\":[");
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }
            var k = first + i;
            Item(text, customerOf(k), prefix + "-" + k.ToString(CultureInfo.InvariantCulture));
        }
        return Encoding.UTF8.GetBytes(text.Append("]}").ToString());
    }

    private static StringBuilder Item(StringBuilder text, long customer, string referenceId) =>
        text.Append("{\"customerId\":\"cust_").Append(customer.ToString(CultureInfo.InvariantCulture))
            .Append("\",\"delta\":-1.25,\"reason\":\"usage\",\"referenceId\":\"").Append(referenceId).Append("\"}");
}
