using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace Tallystick.Client.Tests;

/// <summary>What a <see cref="ScriptedHandler"/> saw: one row per attempt, stamped with the fake clock.</summary>
public sealed record SeenRequest(HttpMethod Method, Uri Uri, DateTimeOffset At, string? IdempotencyKey,
    string? ApiKey, string? UserAgent, string? Body);

/// <summary>
/// A hand-written fake transport: answers each attempt with the next scripted step (a response or an exception) and
/// records the attempt. Steps run synchronously, so on a <see cref="FakeTimeProvider"/> the whole retry loop advances
/// only when the test advances the clock.
/// </summary>
public sealed class ScriptedHandler(TimeProvider time, params Func<HttpRequestMessage, CancellationToken,
    Task<HttpResponseMessage>>[] steps) : HttpMessageHandler
{
    private int _next;

    public List<SeenRequest> Seen { get; } = [];

    public static Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> Answer(int status,
        string json, params (string Name, string Value)[] headers) => (_, _) =>
    {
        var response = new HttpResponseMessage((HttpStatusCode)status)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }
        return Task.FromResult(response);
    };

    public static Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> Fail(Exception exception) =>
        (_, _) => Task.FromException<HttpResponseMessage>(exception);

    /// <summary>Never answers; only the attempt timeout (or the caller) ends it.</summary>
    public static Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> Hang() =>
        async (_, cancellationToken) =>
        {
            // Resumes inline when the attempt timeout fires, so the retry happens inside FakeTimeProvider.Advance.
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException("unreachable");
        };

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request,
        CancellationToken cancellationToken)
    {
        var body = request.Content?.ReadAsStringAsync(cancellationToken).GetAwaiter().GetResult();
        Seen.Add(new SeenRequest(request.Method, request.RequestUri!, time.GetUtcNow(),
            Header(request, "Idempotency-Key"), Header(request, "X-Api-Key"), Header(request, "User-Agent"), body));
        Assert.True(_next < steps.Length, $"unexpected attempt {_next + 1}: only {steps.Length} scripted");
        return steps[_next++](request, cancellationToken);
    }

    private static string? Header(HttpRequestMessage request, string name) =>
        request.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;
}

/// <summary>
/// A <see cref="FakeTimeProvider"/> that counts the timers it creates and fires, so <see cref="FakeClock.Drive"/>
/// can tell "waiting for fake time" from "still working in real time" and never advance past unfinished work.
/// </summary>
public sealed class SteppedClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    private int _created;
    private int _fired;

    public int Created => Volatile.Read(ref _created);

    public int Fired => Volatile.Read(ref _fired);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Interlocked.Increment(ref _created);
        return base.CreateTimer(s =>
        {
            Interlocked.Increment(ref _fired);
            callback(s);
        }, state, dueTime, period);
    }
}

/// <summary>Fake-clock helpers and canned bodies for the retry tests.</summary>
public static class FakeClock
{
    public static readonly TimeSpan Step = TimeSpan.FromMilliseconds(10);

    private static readonly TimeSpan SettleMax = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Advances <paramref name="time"/> in <see cref="Step"/>s until <paramref name="call"/> completes (bounded: a
    /// call that needs more than ten fake minutes is a bug), then returns its outcome. After a step that fired a
    /// timer, the clock stands still (in real time, up to 10 s) until the woken code has armed its next timer or
    /// finished, so a continuation that hops threads is never overtaken by the fake clock.
    /// </summary>
    public static async Task<T> Drive<T>(SteppedClock time, Task<T> call)
    {
        for (var i = 0; !call.IsCompleted; i++)
        {
            Assert.True(i < 60_000, "the call did not complete within 10 fake minutes");
            var (created, fired) = (time.Created, time.Fired);
            time.Advance(Step);
            if (time.Fired != fired)
            {
                var settled = System.Diagnostics.Stopwatch.StartNew();
                while (time.Created == created && !call.IsCompleted && settled.Elapsed < SettleMax)
                {
                    await Task.Delay(1);
                }
            }
            await Task.Yield();
        }
        return await call;
    }

    public static SteppedClock NewTime() => new(DateTimeOffset.FromUnixTimeSeconds(1_767_225_600)); // 2026-01-01

    public static TallyClient NewClient(SteppedClock time, HttpMessageHandler handler,
        TallyRetryPolicy? retry = null, double jitter = 0.5) =>
        new(new HttpClient(handler, false), new TallyClientOptions
        {
            ApiKey = "pk_test_fake0001.secret",
            BaseAddress = new Uri("http://tally.test/"),
            TimeProvider = time,
            Retry = retry ?? TallyRetryPolicy.Default,
            Jitter = () => jitter,
        });

    public const string EmitOk =
        """
        {"success":true,"data":{"recordId":"rec_1","anchorId":"rec_1","customerId":"c1","delta":-7.25,
        "status":"QUEUED","receiptId":"0xab","itemsRoot":"0xab","itemHashes":["0xcd"],"itemHash":"0xcd",
        "sequenceNumber":0,"index":0,"receivedAt":"2026-01-01T00:00:00.000Z","estimatedVerifiedDeltas":1,
        "message":"queued"}}
        """;

    public static string Error(int status, string code, string message = "refused", string? extra = null) =>
        $$$"""{"success":false,"statusCode":{{{status}}},"code":"{{{code}}}","message":"{{{message}}}","error":{"code":"{{{code}}}","message":"{{{message}}}"{{{extra}}}}}""";
}
