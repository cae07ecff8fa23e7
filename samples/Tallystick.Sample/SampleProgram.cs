using Tallystick.Client;
using Tallystick.Wire;

namespace Tallystick.Sample;

/// <summary>
/// A provider's integration in one page: record three GPU jobs as usage, wait until the log has verified them,
/// derive the customer's balance, compare the provider's own books with the verified record, and check a proof
/// bundle offline, and check that the transparency log only grew since the checkpoint a previous run saved.
/// Running it again records nothing new (each job's referenceId is recorded once).
/// </summary>
internal static class SampleProgram
{
    /// <summary>The provider's own books: what it billed, keyed by its job ids.</summary>
    private static readonly Job[] Jobs =
    [
        new("job_abc123", Amount.FromDecimal(182m)),
        new("job_abc124", Amount.FromDecimal(40.5m)),
        new("job_abc125", Amount.FromDecimal(7.25m)),
    ];

    /// <summary>Runs the sample; 0 when everything verified and matched, 1 when a check failed, 2 for bad usage.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        if (SampleOptions.Parse(args, out var error) is not { } options)
        {
            await output.WriteLineAsync($"error: {error}\n{SampleOptions.Usage}");
            return 2;
        }
        try
        {
            return await RunAsync(options, output) ? 0 : 1;
        }
        catch (TallyApiException e)
        {
            await output.WriteLineAsync($"error: {e.Kind} {e.Code}: {e.Message}");
            return 1;
        }
        catch (TransparencyLogException e)
        {
            await output.WriteLineAsync($"log       NOT consistent ({e.Failure}): {e.Message}");
            return 1;
        }
    }

    private static async Task<bool> RunAsync(SampleOptions options, TextWriter output)
    {
        var (apiKey, serverUrl, customerId, jobs) = (options.ApiKey, options.Url, options.Customer, Jobs);
        var logKey = options.LogKey ?? await FetchLogKeyAsync(serverUrl, output);
        var saved = options.CheckpointFile is { } file && File.Exists(file) ? await File.ReadAllTextAsync(file) : null;

        #region readme-sample
        using var tally = new TallyClient(new TallyClientOptions { ApiKey = apiKey, BaseAddress = serverUrl });
        var usage = await tally.EmitBatchAsync(jobs.Select(job => new EmitRequest   // a job's referenceId counts once
            { CustomerId = customerId, Delta = -job.Cost, Reason = "gpu_job", ReferenceId = job.Id }));
        var last = await tally.WaitForVerifiedAsync(usage.Results[^1].RecordId!);   // QUEUED → VERIFIED in ms
        var balance = await tally.DeriveAsync(customerId);                          // from the verified record
        var compare = await tally.CompareAsync(new CompareRequest { CustomerId = customerId, YourRecords =
            [.. jobs.Select(job => new CompareRecord { ReferenceId = job.Id, Amount = -job.Cost })] });
        var bundle = await tally.GetProofBundleAsync(last.RecordId);                // self-contained evidence
        var offline = TallyClient.VerifyBundle(bundle, logKey);                     // item → receipt → signed log
        var growth = await new TransparencyLogMonitor(tally, logKey, saved).UpdateAsync(); // history only grew
        #endregion

        await output.WriteLineAsync($"emitted   {usage.Results.Count} deltas for {customerId} " +
            $"({usage.Results.Count(r => r.Idempotent == true)} already recorded), record {last.RecordId}");
        await output.WriteLineAsync($"verified  {last.Status} at {last.VerifiedAt}");
        await output.WriteLineAsync($"derived   balance {balance.ComputedBalance} over {balance.DeltasCount} deltas");
        await output.WriteLineAsync($"compared  {(compare.Match ? "matches" : "differs from")} the verified " +
            $"record: {compare.Discrepancies.Count} discrepancies");
        await output.WriteLineAsync(offline.IsValid
            ? $"offline   proof bundle verified against {logKey.Split('+')[0]}"
            : $"offline   proof bundle NOT verified: {offline}");
        await output.WriteLineAsync(growth.Previous is null
            ? $"log       checkpoint of size {growth.Latest.Size} trusted on first use"
            : $"log       size {growth.Previous.Size} → {growth.Latest.Size}, consistent");
        if (options.CheckpointFile is not null)
        {
            await File.WriteAllTextAsync(options.CheckpointFile, growth.LatestNote);
        }
        return last.Status == DeltaStatuses.Verified && compare.Match && offline.IsValid;
    }

    private static async Task<string> FetchLogKeyAsync(Uri serverUrl, TextWriter output)
    {
        await output.WriteLineAsync("warning: no --log-key; using the key the server publishes, which proves " +
            "nothing against that server (pin it out of band)");
        using var http = new HttpClient { BaseAddress = serverUrl };
        return (await http.GetStringAsync(new Uri("log/key", UriKind.Relative))).Trim();
    }

    private sealed record Job(string Id, Amount Cost);
}
