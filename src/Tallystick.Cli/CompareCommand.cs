using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Tallystick.Wire;

namespace Tallystick.Cli;

/// <summary>
/// <c>tally compare CUSTOMER --balance X [--their-balance Y] [--records FILE] [--their-records FILE] [tolerance]
/// [scope]</c>: compares balances and record views with the verified record. Exit 0 when they agree (every balance
/// within the tolerance, exact when none applies, and every record view matching), 3 on a mismatch, 1 refused,
/// 2 usage, 4 unreachable or key refused.
/// </summary>
internal static class CompareCommand
{
    public static Command Create(ServerConnection connection)
    {
        var o = new CompareOptions();
        var command = new Command("compare", "Compare balances and record views with the verified record. Exit 0 " +
            "agree, 3 mismatch, 1 refused, 2 usage, 4 server unreachable or key refused.")
        {
            o.Customer, o.Yours, o.Theirs, o.Absolute, o.Relative, o.Records, o.TheirRecords,
        };
        o.Scope.AddTo(command);
        connection.AddTo(command);
        command.Validators.Add(o.Validate);
        command.SetAction((parse, cancel) =>
        {
            var (request, unreadable) = o.Request(parse);
            if (request is null)
            {
                Output.Error(unreadable!);
                return Task.FromResult(TallyCommands.ExitUsage);
            }
            return connection.RunAsync(parse, async (client, output) =>
            {
                var result = await client.CompareAsync(request, cancel);
                if (output.Json)
                {
                    Output.WriteJson(result, WireJson.Default.CompareResult);
                }
                else
                {
                    Write(output, result);
                }
                return Agrees(result) ? TallyCommands.ExitOk : TallyCommands.ExitMismatch;
            });
        });
        return command;
    }

    /// <summary>Every balance within the tolerance (exact when none applies) and no record-level discrepancy.
    /// </summary>
    public static bool Agrees(CompareResult result) =>
        result.Match ||
        (result.WithinTolerance && result.DiscrepancyCounts.Keys.All(kind => kind == "balance_differs"));

    private static void Write(Output output, CompareResult result)
    {
        var agrees = Agrees(result);
        var verdict = result.Match ? output.Green("MATCH") : agrees ? output.Green("WITHIN TOLERANCE")
            : output.Red("MISMATCH");
        Output.Line($"{verdict}: {result.Message}");
        Output.Fields(
            ("customer", result.CustomerId),
            ("verified", $"{result.NeutralBalance} ({DeriveCommand.Count(result.DeltaCount, "delta")})"),
            ("yours", Side(result.YourBalance, result.YourDifference)),
            ("theirs", Side(result.TheirBalance, result.TheirDifference)),
            ("records", result.Records is { } r
                ? $"ledger {r.Ledger}, yours {Text(r.Yours)}, theirs {Text(r.Theirs)}, " +
                    $"confirmed {Text(result.Confirmed)}"
                : null),
            ("window", DeriveCommand.Describe(result.Window)),
            ("checkpoint", $"size {result.Checkpoint.Size}, root {result.Checkpoint.RootHash}"),
            ("diverges", result.FirstDivergence is { } d ? Describe(d) : null));
        if (result.Breakdown is { Count: > 0 } breakdown)
        {
            Output.Line();
            DeriveCommand.Breakdown(breakdown).Write();
        }
        if (result.Discrepancies.Count == 0)
        {
            return;
        }
        Output.Line();
        var table = new Table("kind", "party", "reference", "seq", "ledger", "yours", "theirs").AlignRight(3, 4, 5, 6);
        foreach (var item in result.Discrepancies)
        {
            table.Add(item.Kind, item.Party, item.ReferenceId, Text(item.SequenceNumber), item.LedgerAmount?.ToString(),
                item.YourAmount?.ToString(), item.TheirAmount?.ToString());
        }
        table.Write();
        if (result.DiscrepanciesTruncated)
        {
            Output.Line($"first {result.Discrepancies.Count} of {result.DiscrepancyCounts.Values.Sum()} " +
                "discrepancies (--json has the counts per kind)");
        }
    }

    private static string Describe(Divergence d) =>
        $"{d.Kind} at sequence {Text(d.SequenceNumber)}" +
        (d.ReferenceId is null ? "" : $", referenceId {d.ReferenceId}") + (d.Party is null ? "" : $" ({d.Party})");

    private static string? Side(Amount? balance, Amount? difference) =>
        balance is { } b ? $"{b} (difference {difference})" : null;

    private static string Text(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private sealed class CompareOptions
    {
        public Argument<string> Customer { get; } = new("customer") { Description = "The customer id." };

        public Option<string?> Yours { get; } = new("--balance") { Description = "Your balance for the window." };

        public Option<string?> Theirs { get; } = new("--their-balance")
        {
            Description = "The counterparty's balance.",
        };

        public Option<string?> Absolute { get; } = new("--tolerance-absolute")
        {
            Description = "Largest absolute difference that still agrees (default: the tenant's, else exact).",
        };

        public Option<string?> Relative { get; } = new("--tolerance-relative")
        {
            Description = "Largest difference as a fraction of the verified balance (0.01 = 1%).",
        };

        public Option<string?> Records { get; } = new("--records")
        {
            Description = "Your view of the window's deltas: a .json array or JSON Lines of " +
                "{\"referenceId\", \"amount\", \"time\"?}.",
        };

        public Option<string?> TheirRecords { get; } = new("--their-records")
        {
            Description = "The counterparty's view (as --records).",
        };

        public ScopeOptions Scope { get; } = new(full: true);

        public void Validate(CommandResult result)
        {
            if (result.GetValue(Yours) is null && result.GetValue(Theirs) is null && result.GetValue(Records) is null &&
                result.GetValue(TheirRecords) is null)
            {
                result.AddError("give --balance, --their-balance, --records or --their-records");
            }
            foreach (var option in new[] { Yours, Theirs, Absolute, Relative })
            {
                if (result.GetValue(option) is { } text && ScopeOptions.ParseAmount(text) is null)
                {
                    result.AddError($"{option.Name} '{text}' is not a number with at most 8 fraction digits");
                }
            }
        }

        /// <summary>The request (valid after <see cref="Validate"/> passed), or why a records file cannot be read.
        /// </summary>
        public (CompareRequest? Request, string? Problem) Request(ParseResult parse)
        {
            var (mine, problem) = ReadRecords(parse.GetValue(Records));
            var (other, otherProblem) = ReadRecords(parse.GetValue(TheirRecords));
            if ((problem ?? otherProblem) is { } unreadable)
            {
                return (null, unreadable);
            }
            var (absolute, relative) = (Amount(parse.GetValue(Absolute)), Amount(parse.GetValue(Relative)));
            var request = new CompareRequest
            {
                CustomerId = parse.GetValue(Customer),
                YourBalance = Amount(parse.GetValue(Yours)),
                TheirBalance = Amount(parse.GetValue(Theirs)),
                Tolerance = absolute is null && relative is null
                    ? null
                    : new CompareTolerance { Absolute = absolute, Relative = relative },
                YourRecords = mine,
                TheirRecords = other,
            };
            return (ScopeOptions.ApplyTo(request, Scope.Read(parse, TimeProvider.System.GetUtcNow())), null);
        }

        private static (List<CompareRecord>? Records, string? Problem) ReadRecords(string? path) =>
            path is null
                ? (null, null)
                : JsonItemsFile.Read(path, WireJson.Default.CompareRecord, "records", Limits.CompareRecordsMax);

        private static Amount? Amount(string? text) => text is null ? null : ScopeOptions.ParseAmount(text);
    }
}
