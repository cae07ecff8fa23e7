using System.Collections.Concurrent;
using System.Text.Json;
using Tallystick.Wire;

namespace Tallystick.Client.Tests;

// Goal: the SDK speaks the real server's wire format end to end — typed results, chunked batches in order, waiting
// for VERIFIED, errors mapped to kinds, and a retried emit recorded once. Method: a real in-process server per class
// (InProcessServer); each test uses its own customer ids; a DelegatingHandler watches or disturbs the traffic.
public sealed class EndToEndTests(InProcessServer server) : IClassFixture<InProcessServer>
{
    [Fact]
    public async Task Emit_NewDelta_QueuedWithExactAmountAndReceipt()
    {
        using var client = server.Client();
        using var metadata = JsonDocument.Parse("""{"job":"abc123","gpu":{"count":2}}""");

        var result = await client.EmitAsync("e2e_emit", -182.125m, "gpu_burst_capacity", "job_abc123",
            metadata.RootElement);

        Assert.StartsWith("rec_", result.RecordId, StringComparison.Ordinal);
        Assert.Equal("e2e_emit", result.CustomerId);
        Assert.Equal(-182.125m, result.Delta.Value);
        Assert.Equal(DeltaStatuses.Queued, result.Status);
        Assert.Matches("^0x[0-9a-f]{64}$", result.ReceiptId);
        Assert.Equal(result.ItemHash, Assert.Single(result.ItemHashes));
        Assert.Null(result.Idempotent);
    }

    [Fact]
    public async Task EmitBatch_250Items_ThreeRequestsResultsMergedInInputOrder()
    {
        using var watcher = new Watcher();
        using var client = server.Client(handler: watcher);
        var customers = new[] { "e2e_batch_a", "e2e_batch_b", "e2e_batch_c" };
        var items = Enumerable.Range(0, 250).Select(i => new EmitRequest
        {
            CustomerId = customers[i % 3],
            Delta = Amount.FromDecimal(i + 1),
            Reason = "usage",
            ReferenceId = $"item-{i}",
        }).ToList();

        var result = await client.EmitBatchAsync(items, idempotencyKey: "e2e-batch-250");

        var posts = watcher.Seen.Where(s => s.Path.EndsWith("/delta/batch", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, posts.Count);
        Assert.Equal(["e2e-batch-250.0", "e2e-batch-250.1", "e2e-batch-250.2"], posts.Select(p => p.IdempotencyKey));
        Assert.Equal(250, result.TotalQueued);
        Assert.Equal(0, result.TotalFailed);
        Assert.Equal(Enumerable.Range(0, 250), result.Results.Select(r => r.Index));
        Assert.Equal(items.Select(i => i.CustomerId), result.Results.Select(r => r.CustomerId));
        Assert.Equal(items.Select(i => i.Delta), result.Results.Select(r => r.Delta!.Value));
        Assert.Equal(3, result.Efficiency.UniqueCustomers);
        Assert.Equal(250, result.Efficiency.TotalDeltas);
        Assert.Equal(9, result.Efficiency.EstimatedSlots); // One record per customer per request.
    }

    [Fact]
    public async Task EmitBatch_WithProgress_ReportsTheRunningCountAfterEachRequest()
    {
        using var client = server.Client();
        var items = Enumerable.Range(0, 250).Select(i => new EmitRequest
        {
            CustomerId = "e2e_batch_progress", Delta = Amount.FromDecimal(1), Reason = "usage",
            ReferenceId = $"progress-{i}",
        }).ToList();
        var reports = new List<int>();

        var result = await client.EmitBatchAsync(items, "e2e-batch-progress", new Recorder(reports));

        Assert.Equal([100, 200, 250], reports);
        Assert.Equal(250, result.TotalQueued);
    }

    /// <summary>Records reports synchronously (Progress&lt;T&gt; would post them to the thread pool).</summary>
    private sealed class Recorder(List<int> reports) : IProgress<int>
    {
        public void Report(int value) => reports.Add(value);
    }

    [Fact]
    public async Task EmitBatch_SameKeyAgain_ChunksReplayedNothingRecordedTwice()
    {
        using var client = server.Client();
        var items = Enumerable.Range(0, 150).Select(i => new EmitRequest
        {
            CustomerId = "e2e_batch_again", Delta = Amount.FromDecimal(1), Reason = "usage",
        }).ToList();

        var first = await client.EmitBatchAsync(items, "e2e-batch-again");
        var second = await client.EmitBatchAsync(items, "e2e-batch-again");

        Assert.Equal(first.Results.Select(r => r.ItemHash), second.Results.Select(r => r.ItemHash));
        var last = first.Results[^1].RecordId!;
        await client.WaitForVerifiedAsync(last, TimeSpan.FromSeconds(10));
        var balance = await client.DeriveAsync("e2e_batch_again");
        Assert.Equal(150, balance.DeltasCount);
    }

    [Fact]
    public async Task EmitAndWait_NewDelta_ReachesVerifiedWithCheckpoint()
    {
        using var client = server.Client();

        var status = await client.EmitAndWaitAsync("e2e_wait", 42.5m, "top_up", timeout: TimeSpan.FromSeconds(10));

        Assert.Equal(DeltaStatuses.Verified, status.Status);
        Assert.NotNull(status.VerifiedAt);
        Assert.NotNull(status.Checkpoint);
        Assert.True(status.Checkpoint.Size > status.Log.LeafIndex);
        Assert.Equal(42.5m, status.Delta!.Value.Value);
    }

    [Fact]
    public async Task Derive_TwoVerifiedDeltas_ExactBalanceAndRows()
    {
        using var client = server.Client();
        await client.EmitAndWaitAsync("e2e_derive", -7.25m, "usage", timeout: TimeSpan.FromSeconds(10));
        await client.EmitAndWaitAsync("e2e_derive", 10m, "credit", timeout: TimeSpan.FromSeconds(10));

        var balance = await client.DeriveAsync("e2e_derive", limit: 1, offset: 1);

        Assert.Equal(2.75m, balance.ComputedBalance.Value);
        Assert.Equal(2, balance.DeltasCount);
        Assert.Equal(10m, Assert.Single(balance.Deltas).Delta.Value);
        Assert.Equal(2, balance.Pagination.Total);
        Assert.NotNull(balance.Checkpoint);
    }

    [Fact]
    public async Task Customers_ListSearchAndDetail_ReflectEmits()
    {
        using var client = server.Client();
        await client.EmitAndWaitAsync("e2e_cust_one", 5m, "credit", timeout: TimeSpan.FromSeconds(10));
        await client.EmitAndWaitAsync("e2e_cust_two", 3m, "credit", timeout: TimeSpan.FromSeconds(10));
        await client.EmitAndWaitAsync("e2e_cust_two", -1m, "usage", timeout: TimeSpan.FromSeconds(10));

        var list = await client.GetCustomersAsync(page: 1, limit: 10, search: "E2E_CUST_");
        var detail = await client.GetCustomerAsync("e2e_cust_two", deltaPage: 1, deltaLimit: 1);

        Assert.Equal(["e2e_cust_one", "e2e_cust_two"], list.Customers.Select(c => c.CustomerId));
        Assert.Equal(2, list.Pagination.Total);
        Assert.Equal(2, detail.TotalDeltas);
        Assert.Equal(2m, detail.ComputedBalance.Value);
        Assert.Equal(-1m, Assert.Single(detail.RecentActivity.Items).Delta.Value); // Most recent first.
        Assert.Equal(2, detail.RecentActivity.Pagination.Total);
    }

    [Fact]
    public async Task Errors_BadKey_InvalidApiKeyNotRetried()
    {
        using var watcher = new Watcher();
        using var client = server.Client("pk_test_nobody0000.wrong-secret", watcher);

        var error = await Assert.ThrowsAsync<TallyApiException>(() => client.EmitAsync("e2e_err", 1m, "r"));

        Assert.Equal(TallyErrorKind.InvalidApiKey, error.Kind);
        Assert.Equal(401, error.HttpStatus);
        Assert.Equal("INVALID_API_KEY", error.Code);
        Assert.Single(watcher.Seen);
    }

    [Fact]
    public async Task Errors_ZeroAndOutOfRangeAmounts_ValidationWithField()
    {
        using var client = server.Client();

        var zero = await Assert.ThrowsAsync<TallyApiException>(() => client.EmitAsync("e2e_err", 0m, "r"));
        var huge = await Assert.ThrowsAsync<TallyApiException>(() => client.EmitAsync("e2e_err", 2_000_000_000m, "r"));

        Assert.Equal(TallyErrorKind.Validation, zero.Kind);
        Assert.Equal("DELTA_MUST_NOT_BE_ZERO", zero.Code);
        Assert.Equal("delta", zero.Field);
        Assert.Equal(400, zero.HttpStatus);
        Assert.Equal("DELTA_OUT_OF_RANGE", huge.Code);
        Assert.Equal("delta", huge.Field);
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = client.EmitAsync("e2e_err", 0.123456789m, "r"); });
    }

    [Fact]
    public async Task Errors_UnknownCustomerAndRecord_NotFound()
    {
        using var client = server.Client();

        var derive = await Assert.ThrowsAsync<TallyApiException>(() => client.DeriveAsync("e2e_nobody"));
        var detail = await Assert.ThrowsAsync<TallyApiException>(() => client.GetCustomerAsync("e2e_nobody"));
        var record = await Assert.ThrowsAsync<TallyApiException>(() => client.GetDeltaStatusAsync("rec_nothing"));

        Assert.Equal(TallyErrorKind.NotFound, derive.Kind);
        Assert.Equal("CUSTOMER_NOT_FOUND", derive.Code);
        Assert.Equal("CUSTOMER_NOT_FOUND", detail.Code);
        Assert.Equal(TallyErrorKind.NotFound, record.Kind);
        Assert.Equal("RECORD_NOT_FOUND", record.Code);
    }

    [Fact]
    public async Task Errors_ReferenceIdReusedWithOtherAmount_Conflict()
    {
        using var client = server.Client();
        await client.EmitAsync("e2e_conflict", 1m, "r", "inv-1");

        var again = await client.EmitAsync("e2e_conflict", 1m, "r", "inv-1");
        var error = await Assert.ThrowsAsync<TallyApiException>(
            () => client.EmitAsync("e2e_conflict", 2m, "r", "inv-1"));

        Assert.True(again.Idempotent);
        Assert.Equal(TallyErrorKind.Conflict, error.Kind);
        Assert.Equal("REFERENCE_ID_CONFLICT", error.Code);
    }

    [Fact]
    public async Task Emit_FirstAnswerLostAfterServerRecorded_RetryReplayedRecordedOnce()
    {
        using var dropper = new Watcher { DropFirstAnswer = true };
        using var client = server.Client(handler: dropper);

        var result = await client.EmitAsync("e2e_idem", -3.5m, "usage");

        var posts = dropper.Seen.Where(s => s.Path.EndsWith("/delta", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, posts.Count);
        Assert.Equal(posts[0].IdempotencyKey, posts[1].IdempotencyKey);
        Assert.Equal(201, posts[0].Status); // The server did record the first attempt...
        Assert.Equal("true", posts[1].Replayed); // ...and answered the retry from its idempotency store.
        await client.WaitForVerifiedAsync(result.RecordId, TimeSpan.FromSeconds(10));
        var balance = await client.DeriveAsync("e2e_idem");
        Assert.Equal(1, balance.DeltasCount);
        Assert.Equal(-3.5m, balance.ComputedBalance.Value);
    }

    /// <summary>One exchange as the watcher saw it.</summary>
    private sealed record Exchange(string Path, string? IdempotencyKey, int Status, string? Replayed);

    /// <summary>Forwards to the real server and records each exchange; optionally loses the first answer after the
    /// server produced it, as a dropped connection would.</summary>
    private sealed class Watcher() : DelegatingHandler(new SocketsHttpHandler())
    {
        private readonly ConcurrentQueue<Exchange> _seen = new();
        private int _dropped;

        public bool DropFirstAnswer { get; init; }

        public List<Exchange> Seen => [.. _seen];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request,
            CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            _seen.Enqueue(new Exchange(request.RequestUri!.AbsolutePath,
                request.Headers.TryGetValues("Idempotency-Key", out var keys) ? keys.Single() : null,
                (int)response.StatusCode,
                response.Headers.TryGetValues("Idempotent-Replayed", out var replayed) ? replayed.Single() : null));
            if (DropFirstAnswer && request.Method == HttpMethod.Post && Interlocked.Exchange(ref _dropped, 1) == 0)
            {
                response.Dispose();
                throw new HttpRequestException("connection reset after the server answered (simulated)");
            }
            return response;
        }
    }
}
