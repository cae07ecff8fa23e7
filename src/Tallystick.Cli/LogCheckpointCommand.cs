using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using Tallystick.Client;
using Tallystick.Notes;

namespace Tallystick.Cli;

/// <summary>
/// <c>tally log checkpoint [--log-key VKEY] [--origin O]</c>: prints the server's latest signed checkpoint
/// (<c>GET /log/checkpoint</c>, public, no API key); with <c>--log-key</c> verifies its signature offline with the
/// core library. Exit 0 (verified, when a key was given), 3 not verified, 1 the server answered something that is
/// not a checkpoint, 2 usage, 4 unreachable.
/// </summary>
internal static class LogCheckpointCommand
{
    /// <summary>How long the one request may take.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The largest checkpoint note read (a checkpoint is three lines and a few signatures).</summary>
    public const int NoteBytesMax = 64 * 1024;

    // C2SP signed-note signature lines start with an em dash and a space.
    private const string SignaturePrefix = "\u2014 ";

    public static Command Create(ServerConnection connection)
    {
        var logKey = new Option<string?>("--log-key")
        {
            Description = "The log's verifier key (name+keyid+base64), obtained independently of this server's " +
                "answer; the checkpoint must carry a valid signature by it.",
        };
        var origin = new Option<string?>("--origin")
        {
            Description = "The origin the key is trusted for (default: the key's name, which is the log's origin).",
        };
        var command = new Command("checkpoint", "Print the server's latest signed checkpoint; with --log-key verify " +
            "its signature offline. Exit 0, 3 not verified, 1 not a checkpoint, 2 usage, 4 server unreachable.")
        {
            logKey, origin,
        };
        connection.AddTo(command, apiKey: false);
        command.SetAction(async (parse, cancel) =>
        {
            var output = new Output(parse.GetValue(connection.Json));
            var url = connection.ResolveUrl(parse);
            if (url is null)
            {
                return TallyCommands.ExitUsage;
            }
            NoteVerifier? verifier = null;
            if (parse.GetValue(logKey) is { } vkey)
            {
                try
                {
                    verifier = NoteVerifier.Parse(vkey.Trim());
                }
                catch (FormatException e)
                {
                    Output.Error($"--log-key is not a valid verifier key: {e.Message}");
                    return TallyCommands.ExitUsage;
                }
            }
            var (note, failure) = await Fetch(url, cancel);
            if (failure is { } f)
            {
                Output.Error(f.Message);
                if (output.Json)
                {
                    ServerConnection.WriteErrorJson(f.Exit, f.Code, f.Kind, f.Message, f.HttpStatus);
                }
                return f.Exit;
            }
            return Show(output, note!, verifier, parse.GetValue(origin) ?? verifier?.Name);
        });
        return command;
    }

    private sealed record FetchFailure(string Message, int Exit, string Code, TallyErrorKind Kind, int? HttpStatus);

    private static async Task<(string? Note, FetchFailure? Failure)> Fetch(Uri url, CancellationToken cancel)
    {
        var address = new Uri(new Uri(url.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/"), "log/checkpoint");
        using var http = new HttpClient { Timeout = RequestTimeout, MaxResponseContentBufferSize = NoteBytesMax };
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("tally-cli", "1"));
        try
        {
            using var response = await http.GetAsync(address, cancel);
            var body = await response.Content.ReadAsStringAsync(cancel);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode
                ? (body, null)
                : (null, new FetchFailure($"GET {address} answered {status}", TallyCommands.ExitFailed,
                    "HTTP_" + status.ToString(CultureInfo.InvariantCulture), TallyErrorKind.Other, status));
        }
        catch (HttpRequestException e)
        {
            return (null, new FetchFailure($"cannot reach {url}: {e.Message}", TallyCommands.ExitUnreachable,
                "NETWORK_ERROR", TallyErrorKind.Network, null));
        }
        catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
        {
            return (null, new FetchFailure($"cannot reach {url}: no answer within {RequestTimeout.TotalSeconds:0} s",
                TallyCommands.ExitUnreachable, "TIMEOUT", TallyErrorKind.Timeout, null));
        }
    }

    private static int Show(Output output, string note, NoteVerifier? verifier, string? origin)
    {
        var (checkpoint, error) = verifier is null ? ParseUnverified(note) : Verify(note, verifier, origin!);
        if (output.Json)
        {
            Output.WriteJson(writer =>
            {
                writer.WriteStartObject();
                if (verifier is null)
                {
                    writer.WriteNull("verified");
                }
                else
                {
                    writer.WriteBoolean("verified", checkpoint is not null);
                    writer.WriteString("key", verifier.VerifierKeyText);
                }
                if (error is not null)
                {
                    writer.WriteString("error", error);
                }
                if (checkpoint is not null)
                {
                    writer.WriteString("origin", checkpoint.Origin);
                    writer.WriteNumber("size", checkpoint.Size);
                    writer.WriteString("rootHash", "0x" + Convert.ToHexStringLower(checkpoint.RootHash));
                }
                writer.WriteString("note", note);
                writer.WriteEndObject();
            });
        }
        else if (checkpoint is not null)
        {
            Output.Line(verifier is null
                ? "checkpoint (signature not checked: give --log-key VKEY to verify it)"
                : output.Green("VERIFIED") + $": checkpoint signed by {verifier.Name}+{verifier.KeyId:x8}");
            Output.Fields(("origin", checkpoint.Origin),
                ("size", checkpoint.Size.ToString(CultureInfo.InvariantCulture)),
                ("root", "0x" + Convert.ToHexStringLower(checkpoint.RootHash)),
                ("signers", string.Join(", ", Signers(note))));
        }
        if (checkpoint is null)
        {
            Console.Error.WriteLine((verifier is null ? "tally: not a checkpoint: " : "NOT VERIFIED: ") + error);
        }
        return checkpoint is not null ? TallyCommands.ExitOk
            : verifier is null ? TallyCommands.ExitFailed
            : TallyCommands.ExitMismatch;
    }

    private static (Checkpoint? Checkpoint, string? Error) Verify(string note, NoteVerifier verifier, string origin)
    {
        var result = Checkpoint.TryVerify(note, verifier, origin, out var checkpoint);
        return result.IsValid ? (checkpoint, null) : (null, result.Error);
    }

    // Without a key the body is only read, not trusted: the note text is what precedes the signature block.
    private static (Checkpoint? Checkpoint, string? Error) ParseUnverified(string note)
    {
        var split = note.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0)
        {
            return (null, "no blank line before the signature block");
        }
        try
        {
            return (Checkpoint.ParseNoteText(note[..(split + 1)]), null);
        }
        catch (FormatException e)
        {
            return (null, e.Message);
        }
    }

    private static IEnumerable<string> Signers(string note)
    {
        var split = note.LastIndexOf("\n\n", StringComparison.Ordinal);
        return note[(split + 2)..].Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.StartsWith(SignaturePrefix, StringComparison.Ordinal))
            .Select(line => line[SignaturePrefix.Length..].Split(' ')[0]);
    }
}
