using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Tallystick.Bench;

/// <summary>The built-in closed-loop generator (HttpClient), used when wrk is not installed or with --no-wrk.</summary>
internal sealed class ClientLoad : ILoadGenerator
{
    public string Description => "built-in HttpClient generator (wrk not used)";

    /// <summary>An HttpClient for loopback load: no proxy, no cookies, enough pooled connections.</summary>
    public static HttpClient NewClient(int connections)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        };
        var client = new HttpClient(handler, disposeHandler: true) { Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.TryAddWithoutValidation("X-Api-Key", ServerProcess.ApiKey);
        return client;
    }

    public static HttpRequestMessage Post(Uri uri, byte[] body) => new(HttpMethod.Post, uri)
    {
        Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
    };

    public async Task<LoadResult> RunAsync(LoadSpec spec)
    {
        using var client = NewClient(spec.Connections);
        var emit = new Uri(spec.BaseUri, "/api/v1/balance/delta");
        var batch = new Uri(spec.BaseUri, "/api/v1/balance/delta/batch");
        var latencies = new List<double>[spec.Connections];
        long failed = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, spec.Connections).Select(worker => Task.Run(async () =>
        {
            var list = new List<double>(4096);
            var random = new Random(worker * 7919 + Environment.TickCount);
            long n = 0;
            while (clock.Elapsed < spec.Duration)
            {
                using var request = spec.Kind switch
                {
                    LoadKind.Emit => Post(emit, Bodies.Emit((worker + n * spec.Connections) % spec.Customers,
                        $"{spec.Prefix}-{worker}-{n}")),
                    LoadKind.Batch => Post(batch, Bodies.Batch(n * Bodies.BatchSize, Bodies.BatchSize,
                        k => (worker + k * spec.Connections) % spec.Customers, $"{spec.Prefix}-{worker}")),
                    LoadKind.RandomPath => new HttpRequestMessage(HttpMethod.Get, new Uri(spec.BaseUri,
                        spec.Prefix + (spec.Offset + random.NextInt64(spec.Customers)).ToString(CultureInfo.InvariantCulture) +
                        spec.Query)),
                    LoadKind.Tiles => new HttpRequestMessage(HttpMethod.Get,
                        new Uri(spec.BaseUri, "/log/tile/0/" + Bodies.TilePath(random.NextInt64(spec.Customers)))),
                    _ => new HttpRequestMessage(HttpMethod.Get,
                        new Uri(spec.BaseUri, "/api/v1/balance/derive/" + Bodies.CustomerId(random.Next(spec.Customers)) +
                            spec.Query)),
                };
                n++;
                var start = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await client.SendAsync(request);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref failed);
                }
                list.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            latencies[worker] = list;
        })).ToArray();
        await Task.WhenAll(workers);
        var seconds = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToList();
        return new LoadResult(all.Count, failed, seconds, Stats.Percentile(all, 50), Stats.Percentile(all, 90),
            Stats.Percentile(all, 99), all.Count > 0 ? all[^1] : 0, failed > 0 ? $"{failed} failed" : "");
    }
}
