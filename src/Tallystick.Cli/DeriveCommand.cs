using System.CommandLine;
using System.Globalization;
using Tallystick.Wire;

namespace Tallystick.Cli;

/// <summary>
/// <c>tally derive CUSTOMER [scope] [--limit N] [--offset N]</c>: the balance derived from the customer's verified
/// deltas, with one page of them. Exit 0, 1 refused (unknown customer, scope rules), 2 usage, 4 unreachable or key
/// refused.
/// </summary>
internal static class DeriveCommand
{
    public static Command Create(ServerConnection connection)
    {
        var customer = new Argument<string>("customer") { Description = "The customer id." };
        var limit = new Option<int?>("--limit") { Description = "Deltas listed (1–1000; server default 100)." };
        var offset = new Option<long?>("--offset") { Description = "Deltas skipped before the listed ones." };
        var scope = new ScopeOptions(full: true);
        var command = new Command("derive", "Derive a customer's verified balance, all time or over a window. " +
            "Exit 0, 1 refused, 2 usage, 4 server unreachable or key refused.")
        {
            customer, limit, offset,
        };
        scope.AddTo(command);
        connection.AddTo(command);
        command.SetAction((parse, cancel) => connection.RunAsync(parse, async (client, output) =>
        {
            var result = await client.DeriveAsync(parse.GetValue(customer)!,
                scope.Read(parse, TimeProvider.System.GetUtcNow()), parse.GetValue(limit), parse.GetValue(offset),
                cancel);
            if (output.Json)
            {
                Output.WriteJson(result, WireJson.Default.DeriveResult);
            }
            else
            {
                Write(output, result);
            }
            return TallyCommands.ExitOk;
        }));
        return command;
    }

    private static void Write(Output output, DeriveResult result)
    {
        Output.Line($"{result.CustomerId}: balance {output.Bold(result.Balance.ToString())}");
        Output.Fields(
            ("reference", result.CustomerReference),
            ("verified", Count(result.DeltaCount, "delta")),
            ("pending", $"{Count(result.PendingCount, "delta")}, {result.PendingAmount}"),
            ("window", Describe(result.Window)),
            ("checkpoint", result.Checkpoint is { } c
                ? $"size {c.Size}, root {c.RootHash}, signed {c.SignedAt}"
                : null));
        if (result.Breakdown is { Count: > 0 } breakdown)
        {
            Output.Line();
            Breakdown(breakdown).Write();
        }
        if (result.Deltas.Count == 0)
        {
            return;
        }
        Output.Line();
        var table = new Table("seq", "amount", "reason", "reference", "received", "status", "record").AlignRight(0, 1);
        foreach (var row in result.Deltas)
        {
            table.Add(row.SequenceNumber.ToString(CultureInfo.InvariantCulture), row.Delta.ToString(), row.Reason,
                row.ReferenceId, row.ReceivedAt, row.Status, row.RecordId);
        }
        table.Write();
        var paging = result.Pagination;
        if (paging.Total > result.Deltas.Count)
        {
            Output.Line($"deltas {paging.Offset + 1}–{paging.Offset + result.Deltas.Count} of {paging.Total} " +
                "(--limit and --offset for others)");
        }
    }

    public static Table Breakdown(IReadOnlyList<BalanceBucket> buckets)
    {
        var table = new Table("start", "end", "count", "net", "ending").AlignRight(2, 3, 4);
        foreach (var bucket in buckets)
        {
            table.Add(bucket.Start, bucket.End, bucket.Count.ToString(CultureInfo.InvariantCulture),
                bucket.Net.ToString(), bucket.EndingBalance.ToString());
        }
        return table;
    }

    /// <summary>One line for a resolved window: its kind, bounds, sequence range and what the balance adds up.
    /// </summary>
    public static string Describe(BalanceWindow window)
    {
        var bounds = window.Scope switch
        {
            "all_time" => "all time",
            "period" => $"period {window.Period}",
            "checkpoint" => $"after {window.StartingCheckpoint}",
            _ => window.Scope,
        };
        if (window.Scope != "period" && (window.StartDate is not null || window.EndDate is not null))
        {
            bounds += $" [{window.StartDate ?? "…"}, {window.EndDate ?? "…"})";
        }
        var sequences = window.ToSequenceNumber > window.FromSequenceNumber
            ? $"sequences {window.FromSequenceNumber}–{window.ToSequenceNumber - 1}"
            : "no sequences";
        return $"{bounds}, {sequences}, starting {window.StartingBalance} + net {window.Net}";
    }

    public static string Count(long count, string noun) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + noun + (count == 1 ? "" : "s");
}
