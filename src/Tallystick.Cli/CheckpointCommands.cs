using System.CommandLine;
using System.Globalization;
using Tallystick.Wire;

namespace Tallystick.Cli;

/// <summary>
/// <c>tally checkpoint CUSTOMER [--period|--from/--to|--months-back]</c> commits a period checkpoint (the same window
/// always answers the same checkpoint); <c>tally checkpoints [CUSTOMER]</c> lists them, newest first. Exit 0, 1 refused
/// (unknown customer, nothing verified in the window), 2 usage, 4 unreachable or key refused.
/// </summary>
internal static class CheckpointCommands
{
    public static Command Create(ServerConnection connection)
    {
        var customer = new Argument<string>("customer") { Description = "The customer id." };
        var scope = new ScopeOptions(full: false);
        var command = new Command("checkpoint", "Commit a period checkpoint over a customer's verified deltas " +
            "(all, or a time window) and print its proof root and token. Exit 0, 1 refused, 2 usage, 4 server " +
            "unreachable or key refused.")
        {
            customer,
        };
        scope.AddTo(command);
        connection.AddTo(command);
        command.SetAction((parse, cancel) => connection.RunAsync(parse, async (client, output) =>
        {
            var window = scope.Read(parse, TimeProvider.System.GetUtcNow());
            var empty = window is { Period: null, TimePreset: null, StartDate: null, EndDate: null };
            var result = await client.CreateCheckpointAsync(parse.GetValue(customer)!, empty ? null : window, cancel);
            if (output.Json)
            {
                Output.WriteJson(result, WireJson.Default.PeriodCheckpointResult);
                return TallyCommands.ExitOk;
            }
            Output.Line((result.Idempotent == true ? "existing checkpoint " : "checkpoint ") +
                $"{result.CheckpointId} ({result.Status}): {result.CustomerId}");
            Output.Fields(
                ("deltas", $"{result.DeltaCount}, sequences {result.FromSequence}–{result.ToSequence - 1}"),
                ("balance", $"{result.StartingBalance} -> {result.EndingBalance}"),
                ("proofRoot", result.ProofRoot),
                ("logIndex", result.LogIndex.ToString(CultureInfo.InvariantCulture)),
                ("createdAt", result.CreatedAt),
                ("verify", result.VerificationApiUrl),
                ("proofToken", result.ProofToken));
            Output.Line();
            Output.Line("Check the token offline: tally verify TOKEN --log-key VKEY");
            return TallyCommands.ExitOk;
        }));
        return command;
    }

    public static Command List(ServerConnection connection)
    {
        var customer = new Argument<string?>("customer")
        {
            Description = "Only this customer's checkpoints.", Arity = ArgumentArity.ZeroOrOne,
        };
        var limit = new Option<int?>("--limit") { Description = "Checkpoints listed (server default applies)." };
        var offset = new Option<long?>("--offset") { Description = "Checkpoints skipped (newest first)." };
        var command = new Command("checkpoints", "List period checkpoints, newest first. Exit 0, 1 refused, 2 usage, " +
            "4 server unreachable or key refused.")
        {
            customer, limit, offset,
        };
        connection.AddTo(command);
        command.SetAction((parse, cancel) => connection.RunAsync(parse, async (client, output) =>
        {
            var result = await client.ListCheckpointsAsync(parse.GetValue(customer), parse.GetValue(limit),
                parse.GetValue(offset), cancel);
            if (output.Json)
            {
                Output.WriteJson(result, WireJson.Default.PeriodCheckpointList);
                return TallyCommands.ExitOk;
            }
            if (result.Checkpoints.Count == 0)
            {
                Output.Line("no period checkpoints");
                return TallyCommands.ExitOk;
            }
            var table = new Table("checkpoint", "customer", "deltas", "sequences", "ending", "proof root", "created")
                .AlignRight(2, 4);
            foreach (var c in result.Checkpoints)
            {
                table.Add(c.CheckpointId, c.CustomerId, c.DeltaCount.ToString(CultureInfo.InvariantCulture),
                    $"{c.FromSequence}–{c.ToSequence - 1}", c.EndingBalance.ToString(), Table.Short(c.ProofRoot),
                    c.CreatedAt);
            }
            table.Write();
            if (result.Pagination is { } paging && paging.Total > result.Checkpoints.Count)
            {
                Output.Line($"checkpoints {paging.Offset + 1}–{paging.Offset + result.Checkpoints.Count} of " +
                    $"{paging.Total} (--limit and --offset for others)");
            }
            return TallyCommands.ExitOk;
        }));
        return command;
    }
}
