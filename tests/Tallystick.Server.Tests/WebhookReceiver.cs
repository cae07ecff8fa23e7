using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tallystick.Server.Tests;

/// <summary>A real HTTP webhook receiver on a loopback port (Kestrel): records every request (headers, raw body)
/// and answers with <see cref="Respond"/> (given the 1-based request number; a negative status hangs), after
/// <see cref="Delay"/>; <see cref="MaxConcurrent"/> is the most requests it ever held at once.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private WebApplication? _app;
    private int _count;
    private int _concurrent;
    private int _maxConcurrent;

    public ConcurrentQueue<Received> Requests { get; } = new();

    public Func<int, int> Respond { get; set; } = _ => 200;

    public string Url { get; private set; } = "";

    public TimeSpan Delay { get; set; } = TimeSpan.Zero;

    /// <summary>Extra response headers (e.g. a redirect's Location).</summary>
    public Dictionary<string, string> ResponseHeaders { get; } = [];

    public int MaxConcurrent => Volatile.Read(ref _maxConcurrent);

    public void ResetMaxConcurrent() => Volatile.Write(ref _maxConcurrent, 0);

    public sealed record Received(Dictionary<string, string> Headers, byte[] Body, int AnsweredStatus)
    {
        public string Header(string name) => Headers.TryGetValue(name, out var v) ? v : "";

        public System.Text.Json.JsonElement Json => System.Text.Json.JsonDocument.Parse(Body).RootElement.Clone();
    }

    public static async Task<WebhookReceiver> Start(int port = 0)
    {
        var receiver = new WebhookReceiver();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/hook", async (HttpContext context) =>
        {
            var concurrent = Interlocked.Increment(ref receiver._concurrent);
            try
            {
                await receiver.Answer(context, concurrent);
            }
            finally
            {
                Interlocked.Decrement(ref receiver._concurrent);
            }
        });
        await app.StartAsync();
        receiver._app = app;
        receiver.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hook";
        return receiver;
    }

    private async Task Answer(HttpContext context, int concurrent)
    {
        int seen;
        while ((seen = Volatile.Read(ref _maxConcurrent)) < concurrent &&
            Interlocked.CompareExchange(ref _maxConcurrent, concurrent, seen) != seen)
        {
        }
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var status = Respond(Interlocked.Increment(ref _count));
        Requests.Enqueue(new Received(
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            buffer.ToArray(), status));
        if (status < 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted).ContinueWith(_ => { });
            return;
        }
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay);
        }
        foreach (var (name, value) in ResponseHeaders)
        {
            context.Response.Headers[name] = value;
        }
        context.Response.StatusCode = status;
    }

    /// <summary>Waits until <paramref name="predicate"/> holds for the received requests; fails after 15 s.</summary>
    public async Task<List<Received>> WaitFor(Func<List<Received>, bool> predicate, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var list = Requests.ToList();
            if (predicate(list))
            {
                return list;
            }
            Assert.True(DateTime.UtcNow < deadline, $"webhook receiver: {what} not seen within 15 s ({list.Count} requests)");
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
