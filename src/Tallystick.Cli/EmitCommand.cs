using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;
using Tallystick.Client;
using Tallystick.Wire;

namespace Tallystick.Cli;

/// <summary>
/// <c>tally emit CUSTOMER AMOUNT --reason R [--reference-id ID] [--metadata JSON] [--wait]</c> records one delta;
/// <c>tally emit --file FILE</c> records a file of them through the SDK's batch emit (chunks of 100). Exit 0 recorded,
/// 1 refused (or, for a file, any item refused: the others stay recorded), 2 usage, 4 unreachable or key refused.
/// </summary>
internal static class EmitCommand
{
    /// <summary>The most deltas one file may hold (the file is read into memory before sending).</summary>
    public const int FileDeltasMax = 1_000_000;

    public static Command Create(ServerConnection connection)
    {
        var o = new EmitOptions();
        var command = new Command("emit", "Record a delta, or a file of deltas. Exit 0 recorded, 1 refused (a file: " +
            "any item refused), 2 usage, 4 server unreachable or key refused.")
        {
            o.Customer, o.Amount, o.Reason, o.ReferenceId, o.Metadata, o.IdempotencyKey, o.Wait, o.Timeout, o.File,
        };
        connection.AddTo(command);
        command.Validators.Add(o.Validate);
        command.SetAction((parse, cancel) =>
        {
            var key = parse.GetValue(o.IdempotencyKey);
            if (parse.GetValue(o.File) is { } path)
            {
                return connection.RunAsync(parse, (client, output) => EmitFile(client, output, path, key, cancel));
            }
            TimeSpan? wait = null;
            if (parse.GetValue(o.Wait))
            {
                wait = parse.GetValue(o.Timeout) is { } seconds
                    ? TimeSpan.FromSeconds(seconds)
                    : TallyClient.DefaultWaitTimeout;
            }
            var request = o.Request(parse);
            return connection.RunAsync(parse, (client, output) => EmitOne(client, output, request, key, wait, cancel));
        });
        return command;
    }

    private static async Task<int> EmitOne(TallyClient client, Output output, EmitRequest request, string? key,
        TimeSpan? wait, CancellationToken cancel)
    {
        var emitted = await client.EmitAsync(request, key, cancel);
        if (wait is null)
        {
            if (output.Json)
            {
                Output.WriteJson(emitted, WireJson.Default.EmitResult);
                return TallyCommands.ExitOk;
            }
            Output.Line((emitted.Idempotent == true ? "already recorded " : "recorded ") +
                $"{emitted.RecordId}: {emitted.CustomerId} {emitted.Delta} ({emitted.Status})");
            Output.Fields(("sequence", emitted.SequenceNumber.ToString(CultureInfo.InvariantCulture)),
                ("receivedAt", emitted.ReceivedAt), ("receiptId", emitted.ReceiptId), ("itemHash", emitted.ItemHash));
            return TallyCommands.ExitOk;
        }
        DeltaStatusResult status;
        try
        {
            status = await client.WaitForVerifiedAsync(emitted.RecordId, wait, null, cancel);
        }
        catch (TallyApiException e) when (e.Kind == TallyErrorKind.Timeout)
        {
            Output.Error($"{emitted.RecordId} is recorded but not VERIFIED within {wait.Value.TotalSeconds:0} s: " +
                "do not emit it again (or reuse its --reference-id)");
            if (output.Json)
            {
                ServerConnection.WriteErrorJson(e, TallyCommands.ExitFailed);
            }
            return TallyCommands.ExitFailed;
        }
        if (output.Json)
        {
            Output.WriteJson(status, WireJson.Default.DeltaStatusResult);
            return TallyCommands.ExitOk;
        }
        var verified = string.Equals(status.Status, DeltaStatuses.Verified, StringComparison.OrdinalIgnoreCase);
        Output.Line((verified ? output.Green(status.Status) : output.Red(status.Status)) +
            $" {status.RecordId}: {status.CustomerId} {status.NetDelta}");
        Output.Fields(("sequence", status.SequenceNumber.ToString(CultureInfo.InvariantCulture)),
            ("receiptId", status.ReceiptId), ("itemHash", status.ItemHash));
        return verified ? TallyCommands.ExitOk : TallyCommands.ExitFailed;
    }

    private static async Task<int> EmitFile(TallyClient client, Output output, string path, string? key,
        CancellationToken cancel)
    {
        var (deltas, problem) = JsonItemsFile.Read(path, WireJson.Default.EmitRequest, "deltas", FileDeltasMax);
        if (deltas is null)
        {
            Output.Error(problem!);
            return TallyCommands.ExitUsage;
        }
        var baseKey = key ?? Guid.NewGuid().ToString("D");
        BatchEmitResult result;
        var answered = 0;
        using (var progress = new ProgressBar("emit", deltas.Count, TimeProvider.System))
        {
            try
            {
                // One SDK call: it sends requests of 100 under "{key}.{n}" (the key as given for a single request),
                // so the same file with the same key always sends the same Idempotency-Keys.
                result = await client.EmitBatchAsync(deltas, baseKey, new Answered(progress, n => answered = n), cancel);
            }
            catch (Exception e) when (e is TallyApiException or OperationCanceledException)
            {
                progress.Dispose();
                Output.Error($"stopped after {answered} of {deltas.Count} deltas; rerun " +
                    $"with --idempotency-key {baseKey} to finish without recording any twice");
                throw;
            }
        }
        if (output.Json)
        {
            Output.WriteJson(result, WireJson.Default.BatchEmitResult);
        }
        else
        {
            WriteBatch(output, result);
        }
        return result.TotalFailed == 0 ? TallyCommands.ExitOk : TallyCommands.ExitFailed;
    }

    private static void WriteBatch(Output output, BatchEmitResult result)
    {
        var summary = $"{result.Results.Count} deltas: {result.TotalQueued} queued, {result.TotalFailed} failed " +
            $"({DeriveCommand.Count(result.Efficiency.EstimatedSlots, "record")} for " +
            $"{DeriveCommand.Count(result.Efficiency.UniqueCustomers, "customer")})";
        Output.Line(result.TotalFailed == 0 ? summary : output.Red(summary));
        var failed = new Table("item", "customer", "error", "field", "message").AlignRight(0);
        foreach (var item in result.Results.Where(IsFailed))
        {
            // The server's field path counts within its request ("deltas[3].reason"); the item column already says
            // where in the file, so only the member is shown.
            var field = item.Field is { } f && f.StartsWith("deltas[", StringComparison.Ordinal) && f.Contains("].")
                ? f[(f.IndexOf("].", StringComparison.Ordinal) + 2)..]
                : item.Field;
            failed.Add((item.Index + 1).ToString(CultureInfo.InvariantCulture), item.CustomerId, item.Error, field,
                item.Message);
        }
        if (failed.Count > 0)
        {
            Output.Line();
            failed.Write();
        }
    }

    private static bool IsFailed(BatchItemResult item) =>
        string.Equals(item.Status, DeltaStatuses.Failed, StringComparison.OrdinalIgnoreCase);

    /// <summary>Shows the SDK's running count on the progress bar and keeps it for the stop message.</summary>
    private sealed class Answered(ProgressBar bar, Action<int> keep) : IProgress<int>
    {
        public void Report(int value)
        {
            keep(value);
            bar.Report(value);
        }
    }

    private sealed class EmitOptions
    {
        public Argument<string?> Customer { get; } = new("customer")
        {
            Description = "The customer id.", Arity = ArgumentArity.ZeroOrOne,
        };

        public Argument<string?> Amount { get; } = new("amount")
        {
            Description = "The delta: non-zero, at most 8 fraction digits; negative debits.",
            Arity = ArgumentArity.ZeroOrOne,
        };

        public Option<string?> Reason { get; } = new("--reason") { Description = "Audit text (1–500 characters)." };

        public Option<string?> ReferenceId { get; } = new("--reference-id")
        {
            Description = "Your correlation id: a repeated (customer, referenceId) is recorded once.",
        };

        public Option<string?> Metadata { get; } = new("--metadata")
        {
            Description = "A JSON object stored with the delta.",
        };

        public Option<string?> IdempotencyKey { get; } = new("--idempotency-key")
        {
            Description = "The Idempotency-Key (default: a fresh UUID). For --file, rerunning with the same key and " +
                "file finishes an interrupted run without recording anything twice.",
        };

        public Option<bool> Wait { get; } = new("--wait")
        {
            Description = "Wait until the record is VERIFIED (single emit).",
        };

        public Option<int?> Timeout { get; } = new("--timeout")
        {
            Description = $"Seconds --wait waits (default {TallyClient.DefaultWaitTimeout.TotalSeconds}).",
        };

        public Option<string?> File { get; } = new("--file")
        {
            Description = "Emit every delta of a file instead: .json (an array, or {\"deltas\": [...]}) or JSON " +
                "Lines (one {\"customerId\",\"delta\",\"reason\",…} object per line).",
        };

        public void Validate(CommandResult result)
        {
            if (result.GetValue(File) is not null)
            {
                if (result.GetValue(Customer) is not null || result.GetValue(Amount) is not null ||
                    result.GetValue(Reason) is not null || result.GetValue(ReferenceId) is not null ||
                    result.GetValue(Metadata) is not null || result.GetValue(Wait))
                {
                    result.AddError("--file takes every field from the file: give no CUSTOMER, AMOUNT, --reason, " +
                        "--reference-id, --metadata or --wait");
                }
                return;
            }
            if (result.GetValue(Customer) is null || result.GetValue(Amount) is not { } amount ||
                result.GetValue(Reason) is null)
            {
                result.AddError("give CUSTOMER AMOUNT --reason R, or --file FILE");
            }
            else if (ScopeOptions.ParseAmount(amount) is null)
            {
                result.AddError($"AMOUNT '{amount}' is not a number with at most 8 fraction digits");
            }
            if (result.GetValue(Metadata) is { } metadata && ParseMetadata(metadata).Problem is { } problem)
            {
                result.AddError($"--metadata is not JSON: {problem}");
            }
            if (result.GetValue(Timeout) is <= 0)
            {
                result.AddError("--timeout must be positive");
            }
        }

        /// <summary>The single delta; valid after <see cref="Validate"/> passed.</summary>
        public EmitRequest Request(ParseResult parse) => new()
        {
            CustomerId = parse.GetValue(Customer)!,
            Delta = ScopeOptions.ParseAmount(parse.GetValue(Amount)!)!.Value,
            Reason = parse.GetValue(Reason)!,
            ReferenceId = parse.GetValue(ReferenceId),
            Metadata = parse.GetValue(Metadata) is { } metadata ? ParseMetadata(metadata).Value : null,
        };

        private static (JsonElement? Value, string? Problem) ParseMetadata(string text)
        {
            try
            {
                using var document = JsonDocument.Parse(text);
                return (document.RootElement.Clone(), null);
            }
            catch (JsonException e)
            {
                return (null, e.Message);
            }
        }
    }
}
