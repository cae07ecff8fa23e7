using System.CommandLine;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Tallystick.Canonical;
using Tallystick.Notes;
using Tallystick.Proofs;
using Tallystick.Wire;

namespace Tallystick.Cli;

/// <summary>
/// <c>tally verify FILE|TOKEN --log-key VKEY [--json]</c>: verifies a proof bundle, or a period checkpoint's proof
/// token (<c>tpt1_…</c>), offline (no server needed). Exit codes:
/// 0 verified, 3 not verified (including a file that is not a proof bundle), 2 usage or I/O error (unreadable file,
/// missing or malformed key).
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file")
        {
            Description = "The proof bundle (a file: the JSON answer of GET /api/v1/balance/delta/{recordId}/proof, or " +
                "its data), or a period checkpoint's proof token (tpt1_…) given inline.",
        };
        var logKey = new Option<string?>("--log-key")
        {
            Description = "The log's verifier key (name+keyid+base64), obtained independently of the bundle.",
        };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout." };
        var command = new Command("verify",
            "Verify a delta's proof bundle or a checkpoint's proof token offline. Exit 0 verified, 3 not verified, " +
            "2 usage or I/O error.")
        {
            file, logKey, json,
        };
        command.SetAction(parse => Run(parse.GetValue(file)!, parse.GetValue(logKey), parse.GetValue(json)));
        return command;
    }

    private static int Run(string path, string? vkey, bool asJson)
    {
        if (string.IsNullOrWhiteSpace(vkey))
        {
            Console.Error.WriteLine("tally: --log-key is required: the log's verifier key, from a source you trust");
            return TallyCommands.ExitUsage;
        }
        NoteVerifier key;
        try
        {
            key = NoteVerifier.Parse(vkey.Trim());
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"tally: --log-key is not a valid verifier key: {e.Message}");
            return TallyCommands.ExitUsage;
        }
        if (path.StartsWith(ProofToken.Prefix, StringComparison.Ordinal))
        {
            return RunToken(path, key, asJson);
        }
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            Console.Error.WriteLine($"tally: cannot read {path}: {e.Message}");
            return TallyCommands.ExitUsage;
        }
        var (bundle, unreadable) = ReadBundle(text);
        var result = bundle is null ? null : ProofBundleVerifier.Verify(bundle, key);
        if (asJson)
        {
            WriteJson(bundle, result, unreadable);
        }
        else if (result is { IsValid: true })
        {
            WriteSummary(bundle!, result);
        }
        else
        {
            Console.Error.WriteLine(result is null
                ? $"NOT VERIFIED: {path} is not a proof bundle: {unreadable}"
                : $"NOT VERIFIED: {result.FailedStep}: {result.Error}");
        }
        return result is { IsValid: true } ? TallyCommands.ExitOk : TallyCommands.ExitMismatch;
    }

    private static int RunToken(string token, NoteVerifier key, bool asJson)
    {
        var statement = ProofToken.Verify(token, key, out var failure);
        if (asJson)
        {
            var result = new Dictionary<string, object?>
            {
                ["verified"] = statement is not null,
                ["error"] = failure,
                ["customerReference"] = statement?.CustomerReference,
                ["fromSequence"] = statement?.FromSequence,
                ["toSequence"] = statement?.ToSequence,
                ["deltaCount"] = statement?.DeltaCount,
                ["startingBalance"] = statement?.StartingBalance.ToString(),
                ["endingBalance"] = statement?.EndingBalance.ToString(),
                ["proofRoot"] = statement is null ? null : "0x" + Convert.ToHexStringLower(statement.ProofRoot),
                ["anchoredAt"] = statement is null ? null : Timestamps.Format(statement.AnchoredAtUnixMs),
                ["logIndex"] = statement?.LogIndex,
            };
            Console.WriteLine(JsonSerializer.Serialize(result));
        }
        else if (statement is not null)
        {
            Console.WriteLine($"VERIFIED: period checkpoint signed by {key.Name}");
            Console.WriteLine($"  customer    {statement.CustomerReference}");
            Console.WriteLine($"  sequences   {statement.FromSequence} to {statement.ToSequence - 1} ({statement.DeltaCount} deltas)");
            Console.WriteLine($"  balance     {statement.StartingBalance} -> {statement.EndingBalance}");
            Console.WriteLine($"  proofRoot   0x{Convert.ToHexStringLower(statement.ProofRoot)}");
            Console.WriteLine($"  anchored    {Timestamps.Format(statement.AnchoredAtUnixMs)} at log index {statement.LogIndex} " +
                "(check its inclusion online: GET /api/v1/verify/{proofRoot} or /log/proof/inclusion)");
        }
        else
        {
            Console.Error.WriteLine($"NOT VERIFIED: {failure}");
        }
        return statement is not null ? TallyCommands.ExitOk : TallyCommands.ExitMismatch;
    }

    // Accepts the endpoint's whole answer ({"success":true,"data":{…}}) or the bundle alone.
    private static (ProofBundle? Bundle, string? Error) ReadBundle(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("success", out var success))
            {
                if (success.ValueKind != JsonValueKind.True || !root.TryGetProperty("data", out var data))
                {
                    var code = root.TryGetProperty("code", out var c) ? c.ToString() : "no data";
                    return (null, $"the file holds an unsuccessful answer ({code})");
                }
                root = data;
            }
            var bundle = root.Deserialize(WireJson.Default.ProofBundle);
            return bundle is null ? (null, "the JSON is null") : (bundle, null);
        }
        catch (JsonException e)
        {
            return (null, e.Message);
        }
    }

    private static void WriteSummary(ProofBundle bundle, ProofBundleVerification result)
    {
        var checkpoint = result.Checkpoint!;
        Console.WriteLine($"VERIFIED: delta {bundle.ItemIndex + 1} of {bundle.ItemCount} of record {bundle.RecordId} " +
            $"is in the log {checkpoint.Origin} at leaf {bundle.LogIndex}, under checkpoint size {checkpoint.Size}");
        Console.WriteLine($"  customer    {bundle.CustomerReference} (labelled '{bundle.CustomerId}'; only the reference is proven)");
        Console.WriteLine($"  amount      {bundle.Delta}");
        Console.WriteLine($"  reason      {bundle.Reason}");
        if (bundle.ReferenceId is not null)
        {
            Console.WriteLine($"  referenceId {bundle.ReferenceId}");
        }
        if (bundle.Metadata is { } metadata)
        {
            Console.WriteLine($"  metadata    {Encoding.UTF8.GetString(JsonCanonicalizer.Canonicalize(metadata))}");
        }
        Console.WriteLine($"  sequence    {bundle.SequenceNumber}");
        Console.WriteLine($"  receivedAt  {bundle.ReceivedAt}");
        Console.WriteLine($"  itemHash    {bundle.ItemHash}");
        Console.WriteLine($"  receiptId   {bundle.ReceiptId}");
        Console.WriteLine($"  checkpoint  size {checkpoint.Size}, root {Convert.ToBase64String(checkpoint.RootHash)}");
    }

    private static void WriteJson(ProofBundle? bundle, ProofBundleVerification? result, string? unreadable)
    {
        using var stdout = Console.OpenStandardOutput();
        // Relaxed escaping: this is for people and scripts reading a terminal, not for embedding in HTML.
        using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("verified", result is { IsValid: true });
            if (result is not { IsValid: true })
            {
                writer.WriteString("failedStep", result?.FailedStep.ToString() ?? nameof(ProofBundleStep.Format));
                writer.WriteString("error", result?.Error ?? $"not a proof bundle: {unreadable}");
            }
            if (bundle is not null && result is { IsValid: true, Checkpoint: { } checkpoint })
            {
                writer.WriteString("recordId", bundle.RecordId);
                writer.WriteString("customerId", bundle.CustomerId);
                writer.WriteString("customerReference", bundle.CustomerReference);
                writer.WriteNumber("delta", bundle.Delta.Value);
                writer.WriteString("reason", bundle.Reason);
                writer.WriteNumber("sequenceNumber", bundle.SequenceNumber);
                writer.WriteString("receivedAt", bundle.ReceivedAt);
                writer.WriteString("itemHash", bundle.ItemHash);
                writer.WriteString("receiptId", bundle.ReceiptId);
                writer.WriteNumber("logIndex", bundle.LogIndex);
                writer.WriteStartObject("checkpoint");
                writer.WriteString("origin", checkpoint.Origin);
                writer.WriteNumber("size", checkpoint.Size);
                writer.WriteString("rootHash", "0x" + Convert.ToHexStringLower(checkpoint.RootHash));
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        stdout.WriteByte((byte)'\n');
    }
}

