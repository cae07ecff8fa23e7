using System.Collections.Concurrent;
using System.CommandLine;
using System.Globalization;
using Tallystick.Client;
using Tallystick.Wire;

namespace Tallystick.Cli;

/// <summary>
/// <c>tally bench [--requests N] [--concurrency C] [--batch B] [--customers K]</c>: a small load generator against a
/// running server. Each request emits B deltas (one emit when B is 1, else one batch) for customers of a fresh
/// <c>bench-…</c> namespace, with no retries, so every request is one measured attempt. Prints requests/s, deltas/s
/// and latency percentiles (nearest rank over every successful request; no means, nothing discarded). It is a user
/// tool for "how fast is my deployment"; the repository's own figures come from the bench/ program.
/// Exit 0 all succeeded, 1 some failed, 2 usage, 4 unreachable or key refused (the run stops at the first such).
/// </summary>
internal static class BenchCommand
{
    public const int RequestsMax = 10_000_000;
    public const int ConcurrencyMax = 256;
    public const int CustomersMax = 1_000_000;

    public static Command Create(ServerConnection connection)
    {
        var requests = new Option<int>("--requests")
        {
            Description = "Requests to send (default 1000).", DefaultValueFactory = _ => 1000,
        };
        var concurrency = new Option<int>("--concurrency")
        {
            Description = "Requests in flight at once (default 8).", DefaultValueFactory = _ => 8,
        };
        var batch = new Option<int>("--batch")
        {
            Description = $"Deltas per request, 1–{Limits.BatchDeltasMax} (default 1: single emits).",
            DefaultValueFactory = _ => 1,
        };
        var customers = new Option<int>("--customers")
        {
            Description = "Distinct customers the deltas spread over (default 100).", DefaultValueFactory = _ => 100,
        };
        var command = new Command("bench", "Load a running server with emits and print requests/s, deltas/s and " +
            "latency p50/p95/p99. Exit 0, 1 some requests failed, 2 usage, 4 server unreachable or key refused.")
        {
            requests, concurrency, batch, customers,
        };
        connection.AddTo(command);
        command.Validators.Add(result =>
        {
            Check(result, requests, 1, RequestsMax);
            Check(result, concurrency, 1, ConcurrencyMax);
            Check(result, batch, 1, Limits.BatchDeltasMax);
            Check(result, customers, 1, CustomersMax);
        });
        command.SetAction((parse, cancel) => connection.RunAsync(parse, async (client, output) =>
        {
            var plan = new BenchPlan(parse.GetValue(requests), parse.GetValue(concurrency), parse.GetValue(batch),
                parse.GetValue(customers), "bench-" + Guid.NewGuid().ToString("N")[..8]);
            var report = await Run(client, plan, cancel);
            Write(output, plan, report, client.BaseAddress);
            if (report.Stop is { } stop)
            {
                return ServerConnection.Report(stop, new Output(json: false), client.BaseAddress);
            }
            return report.Failed == 0 ? TallyCommands.ExitOk : TallyCommands.ExitFailed;
        }, TallyRetryPolicy.NoRetries));
        return command;
    }

    private static void Check(System.CommandLine.Parsing.CommandResult result, Option<int> option, int min, int max)
    {
        // Only given values are checked: a validator sees 0, not the default, for an option left out.
        if (result.GetResult(option) is not null && result.GetValue(option) is var value &&
            (value < min || value > max))
        {
            result.AddError($"{option.Name} must be from {min} to {max}");
        }
    }

    private sealed record BenchPlan(int Requests, int Concurrency, int Batch, int Customers, string Prefix);

    private sealed record BenchReport(int Ok, int Failed, long Deltas, double Seconds, double[] LatenciesMs,
        IReadOnlyDictionary<string, int> Errors, TallyApiException? Stop);

    private static async Task<BenchReport> Run(TallyClient client, BenchPlan plan, CancellationToken cancel)
    {
        var time = TimeProvider.System;
        var latencies = new double[plan.Requests];
        Array.Fill(latencies, double.NaN); // Requests never sent (a stopped run) are not latencies of 0.
        var errors = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var next = -1;
        var done = 0;
        long deltas = 0;
        TallyApiException? stop = null;
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using var progress = new ProgressBar("bench", plan.Requests, time);
        var started = time.GetTimestamp();
        var workers = Enumerable.Range(0, plan.Concurrency).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < plan.Requests && !stopping.IsCancellationRequested;
                 i = Interlocked.Increment(ref next))
            {
                var sent = time.GetTimestamp();
                try
                {
                    Interlocked.Add(ref deltas, await Send(client, plan, i, stopping.Token));
                    latencies[i] = time.GetElapsedTime(sent).TotalMilliseconds;
                }
                catch (TallyApiException e)
                {
                    errors.AddOrUpdate(e.Code, 1, (_, n) => n + 1);
                    if (ServerConnection.ExitCodeOf(e) == TallyCommands.ExitUnreachable)
                    {
                        Interlocked.CompareExchange(ref stop, e, null);
                        await stopping.CancelAsync();
                    }
                }
                catch (OperationCanceledException)
                    when (stopping.IsCancellationRequested && !cancel.IsCancellationRequested)
                {
                    // Cut short by another worker's stop: neither a latency nor a failure of its own.
                }
                progress.Report(Interlocked.Increment(ref done));
            }
        }, CancellationToken.None)).ToList();
        await Task.WhenAll(workers);
        cancel.ThrowIfCancellationRequested();
        var seconds = time.GetElapsedTime(started).TotalSeconds;
        var ok = latencies.Where(l => !double.IsNaN(l)).Order().ToArray();
        return new BenchReport(ok.Length, errors.Values.Sum(), deltas, seconds, ok, errors, stop);
    }

    private static async Task<long> Send(TallyClient client, BenchPlan plan, int request, CancellationToken cancel)
    {
        EmitRequest Delta(int item) => new()
        {
            CustomerId = $"{plan.Prefix}-{((long)request * plan.Batch + item) % plan.Customers}",
            Delta = Amount.FromDecimal(1m),
            Reason = "tally bench",
        };
        if (plan.Batch == 1)
        {
            await client.EmitAsync(Delta(0), cancellationToken: cancel);
            return 1;
        }
        var result = await client.EmitBatchAsync(Enumerable.Range(0, plan.Batch).Select(Delta),
            cancellationToken: cancel);
        return result.TotalQueued;
    }

    /// <summary>Nearest-rank percentile of sorted values: the smallest value with at least q of them at or below.
    /// </summary>
    public static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0
            ? double.NaN
            : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static void Write(Output output, BenchPlan plan, BenchReport report, Uri url)
    {
        var perSecond = report.Seconds > 0 ? 1 / report.Seconds : 0;
        var (p50, p95, p99) = (Percentile(report.LatenciesMs, 0.50), Percentile(report.LatenciesMs, 0.95),
            Percentile(report.LatenciesMs, 0.99));
        var max = report.LatenciesMs.Length == 0 ? double.NaN : report.LatenciesMs[^1];
        if (output.Json)
        {
            Output.WriteJson(writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("url", url.ToString());
                writer.WriteNumber("requests", plan.Requests);
                writer.WriteNumber("concurrency", plan.Concurrency);
                writer.WriteNumber("batch", plan.Batch);
                writer.WriteNumber("customers", plan.Customers);
                writer.WriteNumber("ok", report.Ok);
                writer.WriteNumber("failed", report.Failed);
                writer.WriteNumber("deltas", report.Deltas);
                writer.WriteNumber("seconds", Math.Round(report.Seconds, 3));
                writer.WriteNumber("requestsPerSecond", Math.Round(report.Ok * perSecond, 1));
                writer.WriteNumber("deltasPerSecond", Math.Round(report.Deltas * perSecond, 1));
                writer.WriteStartObject("latencyMs");
                foreach (var (name, value) in new[] { ("p50", p50), ("p95", p95), ("p99", p99), ("max", max) })
                {
                    if (double.IsNaN(value))
                    {
                        writer.WriteNull(name);
                    }
                    else
                    {
                        writer.WriteNumber(name, Math.Round(value, 2));
                    }
                }
                writer.WriteEndObject();
                writer.WriteStartObject("errors");
                foreach (var (code, count) in report.Errors.OrderBy(e => e.Key, StringComparer.Ordinal))
                {
                    writer.WriteNumber(code, count);
                }
                writer.WriteEndObject();
                writer.WriteEndObject();
            });
            return;
        }
        Output.Line($"bench: {plan.Requests} requests of {plan.Batch} delta{(plan.Batch == 1 ? "" : "s")}, " +
            $"concurrency {plan.Concurrency}, {plan.Customers} customers, against {url}");
        Output.Fields(
            ("ok", $"{report.Ok} requests, {report.Deltas} deltas in {report.Seconds:0.000} s"),
            ("failed", report.Failed == 0 ? "0" : output.Red(report.Failed.ToString(CultureInfo.InvariantCulture)) +
                " (" + string.Join(", ", report.Errors.OrderBy(e => e.Key, StringComparer.Ordinal)
                    .Select(e => $"{e.Key} {e.Value}")) + ")"),
            ("requests/s", (report.Ok * perSecond).ToString("0.0", CultureInfo.InvariantCulture)),
            ("deltas/s", (report.Deltas * perSecond).ToString("0.0", CultureInfo.InvariantCulture)),
            ("latency ms", $"p50 {Ms(p50)}  p95 {Ms(p95)}  p99 {Ms(p99)}  max {Ms(max)}"));
    }

    private static string Ms(double value) =>
        double.IsNaN(value) ? "-" : value.ToString("0.00", CultureInfo.InvariantCulture);
}
