using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tallystick.Bench;

/// <summary>One webhook request as the fast receiver saw it: its event id, when it arrived, when the server signed it
/// (<c>X-PacSpace-Timestamp</c>, just before sending) and (for <c>delta.verified</c>) the event's <c>verifiedAt</c>,
/// all in Unix milliseconds of this machine's clock.</summary>
internal readonly record struct Arrival(long EventId, double ArrivedAtMs, long SignedAtMs, long VerifiedAtMs);

/// <summary>
/// The fast receiver: a minimal Kestrel app in the bench process that answers 200 at once. It reads the body only to
/// find the event id and <c>verifiedAt</c> (a byte search, no JSON parse), so it costs as little CPU as an ASP.NET
/// Core endpoint can.
/// </summary>
internal sealed class FastReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly List<Arrival> _arrivals = new(1 << 20);
    private readonly HashSet<long> _seen = [];

    private FastReceiver(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    /// <summary>Requests received, duplicates included.</summary>
    public long Requests { get; private set; }

    /// <summary>Distinct event ids received.</summary>
    public int Distinct
    {
        get
        {
            lock (_gate)
            {
                return _seen.Count;
            }
        }
    }

    /// <summary>Unix ms (fractional) of the last request, 0 before the first.</summary>
    public double LastArrivalMs { get; private set; }

    public static async Task<FastReceiver> StartAsync()
    {
        var port = FreePort();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new FastReceiver(app, $"http://127.0.0.1:{port}/hook");
        app.MapPost("/hook", (RequestDelegate)receiver.Receive);
        await app.StartAsync();
        return receiver;
    }

    /// <summary>A copy of the first-arrival of every event so far (duplicates left out).</summary>
    public List<Arrival> Snapshot()
    {
        lock (_gate)
        {
            return [.. _arrivals];
        }
    }

    private async Task Receive(HttpContext context)
    {
        var length = (int)(context.Request.ContentLength ?? 0);
        var body = new byte[Math.Max(length, 0)];
        var read = 0;
        while (read < body.Length)
        {
            var n = await context.Request.Body.ReadAsync(body.AsMemory(read), context.RequestAborted);
            if (n == 0)
            {
                break;
            }
            read += n;
        }
        var arrived = NowMs();
        var id = EventId(context.Request.Headers["webhook-id"].ToString());
        var verifiedAt = VerifiedAt(body.AsSpan(0, read));
        var signedAt = long.TryParse(context.Request.Headers["X-PacSpace-Timestamp"].ToString(), out var ms) ? ms : -1;
        lock (_gate)
        {
            Requests++;
            LastArrivalMs = arrived;
            if (_seen.Add(id))
            {
                _arrivals.Add(new Arrival(id, arrived, signedAt, verifiedAt));
            }
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    public static double NowMs() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalMilliseconds;

    private static long EventId(string header) =>
        header.StartsWith("evt_", StringComparison.Ordinal) && long.TryParse(header.AsSpan(4), out var id) ? id : -1;

    /// <summary>The <c>verifiedAt</c> of a <c>delta.verified</c> body (yyyy-MM-ddTHH:mm:ss.fffZ) in Unix ms, or -1.
    /// </summary>
    private static long VerifiedAt(ReadOnlySpan<byte> body)
    {
        var key = "\"verifiedAt\":\""u8;
        var at = body.IndexOf(key);
        if (at < 0 || at + key.Length + 24 > body.Length)
        {
            return -1;
        }
        var t = body.Slice(at + key.Length, 24);
        static int Digits(ReadOnlySpan<byte> t, int start, int digits)
        {
            var value = 0;
            for (var i = start; i < start + digits; i++)
            {
                value = value * 10 + (t[i] - '0');
            }
            return value;
        }
        var time = new DateTime(Digits(t, 0, 4), Digits(t, 5, 2), Digits(t, 8, 2), Digits(t, 11, 2), Digits(t, 14, 2), Digits(t, 17, 2),
            Digits(t, 20, 3), DateTimeKind.Utc);
        return (long)(time - DateTime.UnixEpoch).TotalMilliseconds;
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// The black hole: accepts every TCP connection and never reads or answers, holding the sockets until disposed. A
/// webhook sender sees its request written and then nothing, until its own timeout.
/// </summary>
internal sealed class BlackHole : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _held = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public BlackHole()
    {
        _listener.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/hook";
        _accepting = Task.Run(AcceptAsync);
    }

    public string Url { get; }

    /// <summary>Connections accepted so far.</summary>
    public int Accepted { get; private set; }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                lock (_held)
                {
                    _held.Add(socket);
                    Accepted++;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _accepting.Wait(TimeSpan.FromSeconds(5));
        lock (_held)
        {
            foreach (var socket in _held)
            {
                socket.Dispose();
            }
        }
        _stop.Dispose();
    }
}
