using Tallystick.Wire;

namespace Tallystick.Client.Tests;

// Goal: the SDK's calls beyond emit — scoped derive, compare, gaps, checkpoints, receipts, public verify, proof
// bundles — speak the real server's wire format, and its offline verifiers accept the server's proofs and refuse a
// changed byte. Oracle: the ledger's own numbers (what was emitted) and the server's log key, fetched separately.
public sealed class ProofsAndReconciliationTests(InProcessServer server) : IClassFixture<InProcessServer>
{
    private async Task<string> LogKeyAsync()
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        return (await http.GetStringAsync(new Uri("log/key", UriKind.Relative))).Trim();
    }

    private static async Task EmitVerifiedAsync(TallyClient client, string customer, params decimal[] amounts)
    {
        var batch = await client.EmitBatchAsync(amounts.Select((a, i) => new EmitRequest
        {
            CustomerId = customer, Delta = Amount.FromDecimal(a), Reason = "usage", ReferenceId = $"{customer}-{i}",
        }));
        await client.WaitForVerifiedAsync(batch.Results[^1].RecordId!, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task DeriveCurrentMonth_CoversWhatWasJustEmitted()
    {
        using var client = server.Client();
        await EmitVerifiedAsync(client, "sdk_month", 10m, -2.5m);

        var month = await client.DeriveAsync("sdk_month", TallyScope.CurrentMonth);
        var allTime = await client.DeriveAsync("sdk_month");

        Assert.Equal(7.5m, month.ComputedBalance.Value);
        Assert.Equal(allTime.ComputedBalance, month.ComputedBalance);
        Assert.Equal("2026-11", TallyScope.MonthsBack(0, new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero)).Period);
        Assert.Equal("2025-12", TallyScope.MonthsBack(11, new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero)).Period);
        var error = await Assert.ThrowsAsync<TallyApiException>(() =>
            client.DeriveAsync("sdk_month", new TallyScope { Period = "2026-11", TimePreset = "last_month" }));
        Assert.Equal(TallyErrorKind.Scope, error.Kind);
    }

    [Fact]
    public async Task Compare_RecordViews_NamesTheDiscrepancies()
    {
        using var client = server.Client();
        await EmitVerifiedAsync(client, "sdk_cmp", 1m, 2m, 3m);

        var result = await client.CompareAsync(new CompareRequest
        {
            CustomerId = "sdk_cmp",
            YourBalance = Amount.FromDecimal(6m),
            TheirBalance = Amount.FromDecimal(5m),
            YourRecords = [new() { ReferenceId = "sdk_cmp-0", Amount = Amount.FromDecimal(1m) },
                new() { ReferenceId = "sdk_cmp-1", Amount = Amount.FromDecimal(2m) },
                new() { ReferenceId = "sdk_cmp-2", Amount = Amount.FromDecimal(3m) }],
            TheirRecords = [new() { ReferenceId = "sdk_cmp-0", Amount = Amount.FromDecimal(1m) },
                new() { ReferenceId = "sdk_cmp-2", Amount = Amount.FromDecimal(4m) }],
        });

        Assert.False(result.Match);
        Assert.Equal(6m, result.NeutralBalance.Value);
        Assert.Contains(result.Discrepancies, d => d.Kind == "missing_from_theirs" && d.ReferenceId == "sdk_cmp-1");
        Assert.Contains(result.Discrepancies, d => d.Kind == "amount_mismatch" && d.ReferenceId == "sdk_cmp-2");
        Assert.NotNull(result.FirstDivergence);

        var gaps = await client.GetGapsAsync("sdk_cmp");
        Assert.Equal(3, gaps.VerifiedCount);
        Assert.Empty(gaps.Gaps);
    }

    [Fact]
    public async Task CheckpointReceiptAndVerify_RoundTrip_AndOfflineChecks()
    {
        using var client = server.Client();
        await EmitVerifiedAsync(client, "sdk_chk", 5m, 7m);
        var key = await LogKeyAsync();

        var checkpoint = await client.CreateCheckpointAsync("sdk_chk");
        var again = await client.CreateCheckpointAsync("sdk_chk");
        var receipt = await client.GetReceiptAsync("sdk_chk");
        var listed = await client.ListCheckpointsAsync("sdk_chk");
        var fetched = await client.GetCheckpointAsync(checkpoint.CheckpointId);

        Assert.Equal(2, checkpoint.DeltaCount);
        Assert.Equal(12m, checkpoint.EndingBalance.Value);
        Assert.Equal(checkpoint.CheckpointId, again.CheckpointId);
        Assert.True(again.Idempotent);
        Assert.Equal(checkpoint.ProofRoot, receipt.ProofRoot);
        Assert.Equal(2, receipt.Deltas.Count);
        Assert.Single(listed.Checkpoints);
        Assert.Equal(checkpoint.ProofToken, fetched.ProofToken);
        var statement = TallyClient.VerifyProofToken(checkpoint.ProofToken, key, out var failure);
        Assert.Null(failure);
        Assert.Equal(12m, statement!.EndingBalance.Value);
        Assert.Null(TallyClient.VerifyProofToken(checkpoint.ProofToken[..^2] + "AA", key, out failure));
        Assert.NotNull(failure);

        var status = await client.EmitAndWaitAsync("sdk_chk", 1m, "usage");
        var verified = await client.VerifyAsync(status.ReceiptId!, "both");
        Assert.True(verified.Verified);
        var bundle = await client.GetProofBundleAsync(status.RecordId);
        Assert.True(TallyClient.VerifyBundle(bundle, key).IsValid);
        Assert.False(TallyClient.VerifyBundle(bundle with { Delta = Amount.FromDecimal(2m) }, key).IsValid);
        var unknown = await Assert.ThrowsAsync<TallyApiException>(() => client.VerifyAsync("0x" + new string('0', 64)));
        Assert.Equal(TallyErrorKind.NotFound, unknown.Kind);
        await Assert.ThrowsAsync<ArgumentException>(() => client.VerifyAsync(status.ReceiptId!, "sideways"));
    }

    [Fact]
    public async Task InvoiceProof_CurrentMonth_OneCheckpointPerWindowTokenVerifiesOffline()
    {
        using var client = server.Client();
        await EmitVerifiedAsync(client, "sdk_invoice", 40m, -15.5m, 3m);
        var key = await client.GetLogKeyAsync();

        var proof = await client.GetInvoiceProofAsync("sdk_invoice", TallyScope.CurrentMonth, limit: 2);
        var again = await client.GetInvoiceProofAsync("sdk_invoice", TallyScope.CurrentMonth, limit: 2, offset: 2);
        var empty = await Assert.ThrowsAsync<TallyApiException>(
            () => client.GetInvoiceProofAsync("sdk_invoice", TallyScope.ForPeriod(2001, 1)));

        Assert.Equal("sdk_invoice", proof.CustomerId);
        Assert.Equal(3, proof.DeltasCount);
        Assert.Equal(27.5m, proof.FinalBalance.Value);
        Assert.Equal(proof.ProofRoot, proof.ReceiptId);
        Assert.Equal(2, proof.Deltas.Count);
        Assert.Equal(3, proof.Pagination.Total);
        Assert.Equal(proof.CheckpointId, again.CheckpointId);
        Assert.Single(again.Deltas);
        Assert.EndsWith("/verify/" + proof.ProofRoot, proof.VerifyUrl, StringComparison.Ordinal);
        var statement = TallyClient.VerifyProofToken(proof.ProofToken, key, out var failure);
        Assert.Null(failure);
        Assert.Equal(27.5m, statement!.EndingBalance.Value);
        Assert.Equal(TallyErrorKind.Validation, empty.Kind);
        Assert.Equal("EMPTY_WINDOW", empty.Code);
    }
}
