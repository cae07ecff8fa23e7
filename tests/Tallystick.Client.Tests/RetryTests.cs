using System.Globalization;
using static Tallystick.Client.Tests.FakeClock;

namespace Tallystick.Client.Tests;

// Goal: the retry loop retries exactly what is transient, waits what the server asks (Retry-After) or a bounded,
// jittered backoff otherwise, keeps one Idempotency-Key across an emit's attempts, and gives up with the last error.
// Method: a scripted fake transport stamps every attempt with a fake clock (SteppedClock) that the test advances in
// 10 ms steps, so measured gaps between attempts are the client's delays to within one step, in milliseconds of real
// time.
public sealed class RetryTests
{
    [Fact]
    public async Task Emit_503WithRetryAfterSeconds_WaitsExactlyThatThenSucceeds()
    {
        var time = NewTime();
        var handler = new ScriptedHandler(time,
            ScriptedHandler.Answer(503, Error(503, "SERVICE_UNAVAILABLE"), ("Retry-After", "2")),
            ScriptedHandler.Answer(201, EmitOk));
        using var client = NewClient(time, handler, jitter: 0.999);

        var result = await Drive(time, client.EmitAsync("c1", -7.25m, "usage"));

        Assert.Equal("rec_1", result.RecordId);
        Assert.Equal(2, handler.Seen.Count);
        AssertGap(handler.Seen[0].At, handler.Seen[1].At, TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Emit_429WithRetryAfterHttpDate_WaitsUntilThatDate()
    {
        var time = NewTime();
        var date = time.GetUtcNow().AddSeconds(5).ToString("r", CultureInfo.InvariantCulture);
        var handler = new ScriptedHandler(time,
            ScriptedHandler.Answer(429, Error(429, "RATE_LIMITED"), ("Retry-After", date)),
            ScriptedHandler.Answer(201, EmitOk));
        using var client = NewClient(time, handler);

        await Drive(time, client.EmitAsync("c1", -7.25m, "usage"));

        AssertGap(handler.Seen[0].At, handler.Seen[1].At, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Get_NetworkErrors_ExponentialFullJitterCappedByMaxDelay()
    {
        var time = NewTime();
        var network = ScriptedHandler.Fail(new HttpRequestException("connection refused"));
        var handler = new ScriptedHandler(time, network, network, network, network,
            ScriptedHandler.Answer(200, StatusOk));
        var retry = new TallyRetryPolicy
        {
            MaxAttempts = 5, BaseDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(3),
        };
        using var client = NewClient(time, handler, retry, jitter: 0.5);

        await Drive(time, client.GetDeltaStatusAsync("rec_1"));

        // Ceilings 1 s, 2 s, 4 s → capped 3 s, 8 s → capped 3 s; full jitter takes the fixed 0.5 of each.
        var expected = new[] { 0.5, 1.0, 1.5, 1.5 };
        Assert.Equal(5, handler.Seen.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            AssertGap(handler.Seen[i].At, handler.Seen[i + 1].At, TimeSpan.FromSeconds(expected[i]));
        }
    }

    [Fact]
    public void BackoffDelay_AnyJitterAndRetry_WithinZeroAndDoublingCeilingCappedAtMax()
    {
        var policy = new TallyRetryPolicy
        {
            BaseDelay = TimeSpan.FromMilliseconds(250), MaxDelay = TimeSpan.FromSeconds(5),
        };
        var random = new Random(20260101);
        for (var retry = 1; retry <= 40; retry++)
        {
            var ceiling = TimeSpan.FromTicks((long)Math.Min(policy.MaxDelay.Ticks,
                policy.BaseDelay.Ticks * Math.Pow(2, Math.Min(retry - 1, 30))));
            for (var sample = 0; sample < 50; sample++)
            {
                var delay = policy.BackoffDelay(retry, random.NextDouble());
                Assert.InRange(delay, TimeSpan.Zero, ceiling);
            }
            Assert.Equal(TimeSpan.Zero, policy.BackoffDelay(retry, 0));
            Assert.Equal(ceiling, policy.BackoffDelay(retry, 1));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => policy.BackoffDelay(0, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => policy.BackoffDelay(1, 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(
            () => new TallyRetryPolicy { MaxAttempts = TallyRetryPolicy.AttemptsMaxLimit + 1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new TallyRetryPolicy { MaxAttempts = 0 });
    }

    [Fact]
    public async Task Emit_400Validation_NotRetried()
    {
        var time = NewTime();
        var handler = new ScriptedHandler(time,
            ScriptedHandler.Answer(400, Error(400, "DELTA_OUT_OF_RANGE", "too big", ",\"field\":\"delta\"")));
        using var client = NewClient(time, handler);

        var error = await Assert.ThrowsAsync<TallyApiException>(() => Drive(time, client.EmitAsync("c1", 1m, "r")));

        Assert.Single(handler.Seen);
        Assert.Equal(TallyErrorKind.Validation, error.Kind);
        Assert.Equal("DELTA_OUT_OF_RANGE", error.Code);
        Assert.Equal("delta", error.Field);
        Assert.Equal(1, error.Attempts);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task Emit_429CadenceLimit_NeverRetriedRetryAfterReported()
    {
        var time = NewTime();
        var body = """{"error":{"message":"Submission cadence limit reached","code":"CADENCE_LIMIT","retryAfterSeconds":120,"customerId":"cust_1"}}""";
        var handler = new ScriptedHandler(time, ScriptedHandler.Answer(429, body));
        using var client = NewClient(time, handler);

        var error = await Assert.ThrowsAsync<TallyApiException>(() => Drive(time, client.EmitAsync("cust_1", 1m, "r")));

        Assert.Single(handler.Seen);
        Assert.Equal(TallyErrorKind.CadenceLimited, error.Kind);
        Assert.Equal(429, error.HttpStatus);
        Assert.Equal(TimeSpan.FromSeconds(120), error.RetryAfter);
        Assert.Equal("cust_1", error.CustomerId);
        Assert.Equal("Submission cadence limit reached", error.Message);
    }

    [Fact]
    public async Task Emit_TransientUntilAttemptsRunOut_ThrowsLastErrorWithAttemptCount()
    {
        var time = NewTime();
        var handler = new ScriptedHandler(time,
            ScriptedHandler.Answer(500, Error(500, "INTERNAL_ERROR", "first")),
            ScriptedHandler.Answer(502, "<html>bad gateway</html>"),
            ScriptedHandler.Answer(503, Error(503, "SERVICE_UNAVAILABLE", "last"), ("Retry-After", "1"),
                ("X-Request-Id", "req_42")));
        using var client = NewClient(time, handler);

        var error = await Assert.ThrowsAsync<TallyApiException>(() => Drive(time, client.EmitAsync("c1", 1m, "r")));

        Assert.Equal(TallyRetryPolicy.DefaultMaxAttempts, handler.Seen.Count);
        Assert.Equal(3, error.Attempts);
        Assert.Equal(503, error.HttpStatus);
        Assert.Equal(TallyErrorKind.ServiceUnavailable, error.Kind);
        Assert.Equal("last", error.Message);
        Assert.Equal("req_42", error.RequestId);
        Assert.True(error.IsTransient);
        Assert.Single(handler.Seen.Select(s => s.IdempotencyKey).Distinct());
    }

    [Fact]
    public async Task Emit_RetryAfterLongerThanMaxDelay_ThrowsWithoutWaiting()
    {
        var time = NewTime();
        var handler = new ScriptedHandler(time,
            ScriptedHandler.Answer(429, Error(429, "RATE_LIMITED"), ("Retry-After", "3600")));
        using var client = NewClient(time, handler);
        var started = time.GetUtcNow();

        var error = await Assert.ThrowsAsync<TallyApiException>(() => Drive(time, client.EmitAsync("c1", 1m, "r")));

        Assert.Single(handler.Seen);
        Assert.Equal(TallyErrorKind.RateLimited, error.Kind);
        Assert.Equal(TimeSpan.FromHours(1), error.RetryAfter);
        Assert.True(time.GetUtcNow() - started <= Step, "the client waited although it was going to give up");
    }

    [Fact]
    public async Task Emit_202IdempotencyPending_RetriedAfterRetryAfterWithTheSameKey()
    {
        var time = NewTime();
        var pending = """{"success":false,"statusCode":202,"code":"IDEMPOTENCY_PENDING","retryAfterSeconds":1,"message":"in progress","error":{"code":"IDEMPOTENCY_PENDING","message":"in progress","retryAfterSeconds":1}}""";
        var handler = new ScriptedHandler(time,
            ScriptedHandler.Answer(202, pending, ("Retry-After", "1")),
            ScriptedHandler.Answer(201, EmitOk));
        using var client = NewClient(time, handler);

        var result = await Drive(time, client.EmitAsync("c1", -7.25m, "usage", idempotencyKey: "job-abc123"));

        Assert.Equal("rec_1", result.RecordId);
        Assert.All(handler.Seen, s => Assert.Equal("job-abc123", s.IdempotencyKey));
        AssertGap(handler.Seen[0].At, handler.Seen[1].At, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Emit_EachCallOneFreshKeyReusedAcrossItsRetries_HeadersSent()
    {
        var time = NewTime();
        var network = ScriptedHandler.Fail(new HttpRequestException("reset"));
        var handler = new ScriptedHandler(time, network, ScriptedHandler.Answer(201, EmitOk),
            ScriptedHandler.Answer(201, EmitOk));
        using var client = NewClient(time, handler);

        await Drive(time, client.EmitAsync("c1", -7.25m, "usage"));
        await Drive(time, client.EmitAsync("c1", -7.25m, "usage"));

        Assert.Equal(handler.Seen[0].IdempotencyKey, handler.Seen[1].IdempotencyKey);
        Assert.NotEqual(handler.Seen[1].IdempotencyKey, handler.Seen[2].IdempotencyKey);
        Assert.True(Guid.TryParse(handler.Seen[0].IdempotencyKey, out _));
        Assert.All(handler.Seen, s => Assert.Equal("pk_test_fake0001.secret", s.ApiKey));
        Assert.All(handler.Seen, s => Assert.StartsWith("tallystick-dotnet/", s.UserAgent, StringComparison.Ordinal));
        Assert.Equal("""{"customerId":"c1","delta":-7.25,"reason":"usage"}""", handler.Seen[0].Body);
        Assert.Equal(new Uri("http://tally.test/api/v1/balance/delta"), handler.Seen[0].Uri);
    }

    [Fact]
    public async Task Get_AttemptHangsPastAttemptTimeout_TimeoutKindRetried()
    {
        var time = NewTime();
        var handler = new ScriptedHandler(time, ScriptedHandler.Hang(), ScriptedHandler.Answer(200, StatusOk));
        using var client = new TallyClient(new HttpClient(handler, false), new TallyClientOptions
        {
            ApiKey = "pk_test_fake0001.secret",
            BaseAddress = new Uri("http://tally.test/"),
            TimeProvider = time,
            AttemptTimeout = TimeSpan.FromSeconds(3),
            Jitter = () => 0,
        });

        var status = await Drive(time, client.GetDeltaStatusAsync("rec_1"));

        Assert.Equal("VERIFIED", status.Status);
        AssertGap(handler.Seen[0].At, handler.Seen[1].At, TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Get_AllAttemptsHang_ThrowsTimeoutWithoutStatus()
    {
        var time = NewTime();
        var handler = new ScriptedHandler(time, ScriptedHandler.Hang(), ScriptedHandler.Hang());
        using var client = NewClient(time, handler, new TallyRetryPolicy { MaxAttempts = 2 });

        var error = await Assert.ThrowsAsync<TallyApiException>(() => Drive(time, client.GetDeltaStatusAsync("rec_1")));

        Assert.Equal(TallyErrorKind.Timeout, error.Kind);
        Assert.Equal("TIMEOUT", error.Code);
        Assert.Null(error.HttpStatus);
        Assert.Equal(2, error.Attempts);
    }

    [Fact]
    public async Task Emit_CallerCancelsDuringBackoff_OperationCanceledNotWrapped()
    {
        var time = NewTime();
        var handler = new ScriptedHandler(time,
            ScriptedHandler.Answer(503, Error(503, "SERVICE_UNAVAILABLE"), ("Retry-After", "10")));
        using var client = NewClient(time, handler);
        using var cancel = new CancellationTokenSource();

        var call = client.EmitAsync("c1", 1m, "r", cancellationToken: cancel.Token);
        time.Advance(TimeSpan.FromSeconds(1));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Single(handler.Seen);
    }

    [Fact]
    public async Task Get_2xxWithoutEnvelope_UnexpectedResponseNotRetried()
    {
        var time = NewTime();
        var handler = new ScriptedHandler(time, ScriptedHandler.Answer(200, """{"recordId":"rec_1"}"""));
        using var client = NewClient(time, handler);

        var error = await Assert.ThrowsAsync<TallyApiException>(() => Drive(time, client.GetDeltaStatusAsync("rec_1")));

        Assert.Single(handler.Seen);
        Assert.Equal(TallyErrorKind.Other, error.Kind);
        Assert.Equal("UNEXPECTED_RESPONSE", error.Code);
        Assert.Equal(200, error.HttpStatus);
    }

    [Fact]
    public async Task WaitForVerified_StaysQueued_PollsWithDoublingIntervalThenTimeout()
    {
        var time = NewTime();
        var queued = ScriptedHandler.Answer(200, StatusOk.Replace("VERIFIED", "QUEUED", StringComparison.Ordinal));
        var handler = new ScriptedHandler(time, Enumerable.Repeat(queued, 5).ToArray());
        using var client = NewClient(time, handler);

        var error = await Assert.ThrowsAsync<TallyApiException>(() => Drive(time,
            client.WaitForVerifiedAsync("rec_1", TimeSpan.FromSeconds(2.5), TimeSpan.FromMilliseconds(250))));

        // Polls at 0, 0.25, 0.75, 1.75 s, then the last sleep is cut to the deadline (2.5 s).
        Assert.Equal(TallyErrorKind.Timeout, error.Kind);
        Assert.Equal(5, handler.Seen.Count);
        var expected = new[] { 0.25, 0.5, 1.0, 0.75 };
        for (var i = 0; i < expected.Length; i++)
        {
            AssertGap(handler.Seen[i].At, handler.Seen[i + 1].At, TimeSpan.FromSeconds(expected[i]));
        }
    }

    private const string StatusOk =
        """
        {"success":true,"data":{"recordId":"rec_1","anchorId":"rec_1","status":"VERIFIED","customerId":"c1",
        "customerReference":"0x00","delta":-7.25,"netDelta":-7.25,"receiptId":"0xab","itemsRoot":"0xab",
        "itemHash":"0xcd","itemHashes":["0xcd"],"sequenceNumber":0,"index":0,"deltaCount":1,"deltas":[],
        "receivedAt":"2026-01-01T00:00:00.000Z","log":{"origin":"o","leafIndex":0}}}
        """;

    private static void AssertGap(DateTimeOffset earlier, DateTimeOffset later, TimeSpan expected)
    {
        var gap = later - earlier;
        Assert.True(gap >= expected && gap < expected + Step + Step,
            $"expected a gap of {expected.TotalMilliseconds} ms, saw {gap.TotalMilliseconds} ms");
    }
}
