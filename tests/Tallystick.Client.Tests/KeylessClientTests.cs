using System.Collections.Concurrent;
using System.Reflection;
using Tallystick.Wire;
using static Tallystick.Client.Tests.FakeClock;

namespace Tallystick.Client.Tests;

// Goal: a client without an API key (an auditor, a customer holding only a proof root) makes every public call —
// public verify, the transparency log, TransparencyLogMonitor — and never sends an X-Api-Key header; every other call
// fails before sending with InvalidApiKey / API_KEY_REQUIRED. Method: public calls against the real in-process
// server, headers read off a watching handler; the other calls over a scripted transport with no answers (a request
// would show in Seen), one entry per public method of TallyClient so a new method must be classified here.
public sealed class KeylessClientTests(InProcessServer server) : IClassFixture<InProcessServer>
{
    private static readonly EmitRequest Delta = new()
    {
        CustomerId = "keyless", Delta = Amount.FromDecimal(1m), Reason = "usage",
    };

    private static readonly string[] PublicCalls =
        ["VerifyAsync", "GetLogCheckpointAsync", "GetLogKeyAsync", "GetConsistencyProofAsync"];

    /// <summary>Every call that needs a key, by method name (overloads share an entry's name).</summary>
    private static readonly (string Name, Func<TallyClient, Task> Call)[] KeyedCalls =
    [
        ("EmitAsync", c => c.EmitAsync("keyless", 1m, "usage")),
        ("EmitAsync", c => c.EmitAsync(Delta)),
        ("EmitBatchAsync", c => c.EmitBatchAsync([Delta])),
        ("EmitBatchAsync", c => c.EmitBatchAsync([Delta], null, progress: null)),
        ("GetDeltaStatusAsync", c => c.GetDeltaStatusAsync("rec_1")),
        ("WaitForVerifiedAsync", c => c.WaitForVerifiedAsync("rec_1")),
        ("EmitAndWaitAsync", c => c.EmitAndWaitAsync("keyless", 1m, "usage")),
        ("EmitAndWaitAsync", c => c.EmitAndWaitAsync(Delta)),
        ("DeriveAsync", c => c.DeriveAsync("keyless")),
        ("DeriveAsync", c => c.DeriveAsync("keyless", TallyScope.CurrentMonth)),
        ("GetCustomersAsync", c => c.GetCustomersAsync()),
        ("GetCustomerAsync", c => c.GetCustomerAsync("keyless")),
        ("CompareAsync", c => c.CompareAsync(new CompareRequest { CustomerId = "keyless" })),
        ("GetCompareWindowsAsync", c => c.GetCompareWindowsAsync("keyless", TallyScope.CurrentMonth)),
        ("GetGapsAsync", c => c.GetGapsAsync("keyless")),
        ("CreateCheckpointAsync", c => c.CreateCheckpointAsync("keyless")),
        ("ListCheckpointsAsync", c => c.ListCheckpointsAsync()),
        ("GetCheckpointAsync", c => c.GetCheckpointAsync("cp_1")),
        ("GetReceiptAsync", c => c.GetReceiptAsync("keyless")),
        ("GetInvoiceProofAsync", c => c.GetInvoiceProofAsync("keyless", TallyScope.CurrentMonth)),
        ("GetProofBundleAsync", c => c.GetProofBundleAsync("rec_1")),
        ("CreateWebhookEndpointAsync", c => c.CreateWebhookEndpointAsync(new() { Url = "https://hooks.test/x" })),
        ("ListWebhookEndpointsAsync", c => c.ListWebhookEndpointsAsync()),
        ("GetWebhookEndpointAsync", c => c.GetWebhookEndpointAsync("we_1")),
        ("UpdateWebhookEndpointAsync", c => c.UpdateWebhookEndpointAsync("we_1", new() { Enabled = true })),
        ("DeleteWebhookEndpointAsync", c => c.DeleteWebhookEndpointAsync("we_1")),
        ("RotateWebhookSecretAsync", c => c.RotateWebhookSecretAsync("we_1")),
        ("SendWebhookTestAsync", c => c.SendWebhookTestAsync("we_1")),
        ("GetWebhookDeliveriesAsync", c => c.GetWebhookDeliveriesAsync()),
        ("RetryWebhookEventAsync", c => c.RetryWebhookEventAsync("evt_1")),
    ];

    [Fact]
    public async Task PublicCalls_NoKey_WorkAgainstTheRealServerWithoutAnApiKeyHeader()
    {
        using var keyed = server.Client();
        var first = await keyed.EmitAndWaitAsync("keyless_public", 5m, "usage");
        var checkpoint = await keyed.CreateCheckpointAsync("keyless_public");
        using var watcher = new HeaderWatcher();
        using var client = server.Client(apiKey: null, watcher);

        var logKey = await client.GetLogKeyAsync();
        var monitor = new TransparencyLogMonitor(client, logKey);
        var before = await monitor.UpdateAsync();
        var receipt = await client.VerifyAsync(first.ReceiptId!, "both");
        var token = await client.VerifyAsync(checkpoint.ProofToken);
        await keyed.EmitAndWaitAsync("keyless_public", 6m, "usage");
        var grown = await monitor.UpdateAsync();
        var note = await client.GetLogCheckpointAsync();
        var proof = await client.GetConsistencyProofAsync(before.Latest.Size, grown.Latest.Size);

        Assert.Equal(await keyed.GetLogKeyAsync(), logKey);
        Assert.True(receipt.Verified);
        Assert.Equal(first.ReceiptId, receipt.ProofRoot);
        Assert.True(token.Verified);
        Assert.Equal(checkpoint.ProofRoot, token.ProofRoot);
        Assert.True(grown.Grew);
        Assert.True(grown.Latest.Size > before.Latest.Size);
        Assert.Equal(grown.Latest.Size, TransparencyLogMonitor.VerifyCheckpoint(note,
            Tallystick.Notes.NoteVerifier.Parse(logKey)).Size);
        TransparencyLogMonitor.VerifyConsistency(before.Latest, grown.Latest, proof);
        var seen = watcher.Seen;
        Assert.Equal(["/api/v1/verify/", "/log/checkpoint", "/log/key", "/log/proof/consistency"], seen
            .Select(s => s.Path.StartsWith("/api/v1/verify/", StringComparison.Ordinal) ? "/api/v1/verify/" : s.Path)
            .Distinct().Order(StringComparer.Ordinal));
        Assert.All(seen, s => Assert.Equal(200, s.Status));
        Assert.All(seen, s => Assert.False(s.ApiKeySent, $"{s.Path} carried X-Api-Key"));
    }

    [Fact]
    public async Task KeyedCalls_NoKey_FailBeforeSendingWithApiKeyRequired()
    {
        var time = NewTime();
        var handler = new ScriptedHandler(time);
        using var client = new TallyClient(new HttpClient(handler, false), new TallyClientOptions
        {
            BaseAddress = new Uri("http://tally.test/"), TimeProvider = time,
        });

        foreach (var (name, call) in KeyedCalls)
        {
            var error = await Assert.ThrowsAsync<TallyApiException>(() => call(client));

            Assert.Equal(TallyErrorKind.InvalidApiKey, error.Kind);
            Assert.Equal("API_KEY_REQUIRED", error.Code);
            Assert.Null(error.HttpStatus);
            Assert.Equal(0, error.Attempts);
            Assert.False(error.IsTransient);
            Assert.Contains("needs an API key", error.Message, StringComparison.Ordinal);
        }
        Assert.Empty(handler.Seen);
    }

    [Fact]
    public void EveryCall_IsClassifiedAsPublicOrNeedingAKey()
    {
        var methods = typeof(TallyClient)
            .GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => m.Name.EndsWith("Async", StringComparison.Ordinal)).Select(m => m.Name).ToHashSet();

        Assert.Equal(methods.Order(StringComparer.Ordinal),
            PublicCalls.Concat(KeyedCalls.Select(k => k.Name)).Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task PublicCall_NoKeyOverScriptedTransport_NoApiKeyHeaderKeyedClientStillSendsIt()
    {
        var time = NewTime();
        var handler = new ScriptedHandler(time, ScriptedHandler.Answer(200, "log/key+00000000+AAAA\n"),
            ScriptedHandler.Answer(200, "log/key+00000000+AAAA\n"));
        using var keyless = new TallyClient(new HttpClient(handler, false), new TallyClientOptions
        {
            BaseAddress = new Uri("http://tally.test/"), TimeProvider = time,
        });
        using var keyed = NewClient(time, handler);

        await keyless.GetLogKeyAsync();
        await keyed.GetLogKeyAsync();

        Assert.Null(handler.Seen[0].ApiKey);
        Assert.Equal("pk_test_fake0001.secret", handler.Seen[1].ApiKey);
    }

    [Fact]
    public void Constructor_EmptyKey_RefusedNullKeyAccepted()
    {
        var address = new Uri("http://tally.test/");

        Assert.Throws<ArgumentException>(() => new TallyClient(new TallyClientOptions
        {
            ApiKey = "", BaseAddress = address,
        }));
        using var keyless = new TallyClient(new TallyClientOptions { ApiKey = null, BaseAddress = address });
        Assert.Equal(address, keyless.BaseAddress);
    }

    private sealed record Exchange(string Path, int Status, bool ApiKeySent);

    /// <summary>Passes requests to the real server and records each path, status and whether X-Api-Key was sent
    /// (present at all, even empty).</summary>
    private sealed class HeaderWatcher() : DelegatingHandler(new SocketsHttpHandler())
    {
        private readonly ConcurrentQueue<Exchange> _seen = new();

        public List<Exchange> Seen => [.. _seen];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request,
            CancellationToken cancellationToken)
        {
            var sent = request.Headers.Contains("X-Api-Key");
            var response = await base.SendAsync(request, cancellationToken);
            _seen.Enqueue(new Exchange(request.RequestUri!.AbsolutePath, (int)response.StatusCode, sent));
            return response;
        }
    }
}
