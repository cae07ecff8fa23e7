using System.CommandLine;
using Tallystick.Client;

namespace Tallystick.Cli;

/// <summary>
/// The options every client command shares (<c>--url</c>, <c>--api-key</c>, <c>--json</c>) and the one place where a
/// failed call becomes an exit code: 4 when the server cannot be reached, does not answer in time, is unavailable
/// (503) or refuses the key (401/403); 1 for any other refusal (validation, not found, conflict, rate limit, 5xx).
/// </summary>
internal sealed class ServerConnection
{
    public const string DefaultUrl = "http://127.0.0.1:8080";
    public const string UrlVariable = "TALLY_URL";
    public const string ApiKeyVariable = "TALLY_API_KEY";

    public Option<string?> Url { get; } = new("--url")
    {
        Description = $"The server's base URL (default: ${UrlVariable} or {DefaultUrl}).",
    };

    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        Description = $"The API key, pk_test_… or pk_live_… (default: ${ApiKeyVariable}).",
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the server's answer (the data of its JSON envelope) instead of a table.",
    };

    /// <summary>Adds the shared options to <paramref name="command"/>; <paramref name="apiKey"/> false for commands
    /// that read only public resources.</summary>
    public void AddTo(Command command, bool apiKey = true)
    {
        command.Options.Add(Url);
        if (apiKey)
        {
            command.Options.Add(ApiKey);
        }
        command.Options.Add(Json);
    }

    /// <summary>The base URL from the flag, the environment or the default; null with a message when malformed.
    /// </summary>
    public Uri? ResolveUrl(ParseResult parse)
    {
        var text = parse.GetValue(Url) ?? Environment.GetEnvironmentVariable(UrlVariable);
        text = string.IsNullOrWhiteSpace(text) ? DefaultUrl : text.Trim();
        if (Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
        {
            return url;
        }
        Output.Error($"--url '{text}' is not an absolute http or https URL");
        return null;
    }

    /// <summary>
    /// Runs <paramref name="action"/> with a client for the resolved server and key. Usage problems (no key, a bad
    /// URL) exit 2 before any request; a <see cref="TallyApiException"/> is printed (as an error document on stdout
    /// too with <c>--json</c>) and mapped by <see cref="ExitCodeOf"/>.
    /// </summary>
    public async Task<int> RunAsync(ParseResult parse, Func<TallyClient, Output, Task<int>> action,
        TallyRetryPolicy? retry = null)
    {
        var output = new Output(parse.GetValue(Json));
        var url = ResolveUrl(parse);
        var key = parse.GetValue(ApiKey) ?? Environment.GetEnvironmentVariable(ApiKeyVariable);
        if (url is null)
        {
            return TallyCommands.ExitUsage;
        }
        if (string.IsNullOrWhiteSpace(key))
        {
            Output.Error($"no API key: pass --api-key or set {ApiKeyVariable}");
            return TallyCommands.ExitUsage;
        }
        TallyClient client;
        try
        {
            client = new TallyClient(new TallyClientOptions
            {
                ApiKey = key.Trim(), BaseAddress = url, Retry = retry ?? TallyRetryPolicy.Default,
            });
        }
        catch (ArgumentException e)
        {
            Output.Error(e.Message);
            return TallyCommands.ExitUsage;
        }
        using (client)
        {
            try
            {
                return await action(client, output);
            }
            catch (TallyApiException e)
            {
                return Report(e, output, url);
            }
        }
    }

    public static int ExitCodeOf(TallyApiException e) => e.Kind switch
    {
        TallyErrorKind.Network or TallyErrorKind.Timeout or TallyErrorKind.ServiceUnavailable
            or TallyErrorKind.InvalidApiKey => TallyCommands.ExitUnreachable,
        _ => TallyCommands.ExitFailed,
    };

    public static int Report(TallyApiException e, Output output, Uri url)
    {
        var exit = ExitCodeOf(e);
        var what = e.Kind switch
        {
            TallyErrorKind.Network => $"cannot reach {url}: ",
            TallyErrorKind.InvalidApiKey => "the server refused the API key: ",
            _ => "",
        };
        var status = e.HttpStatus is { } s ? $" (HTTP {s})" : "";
        var field = e.Field is null ? "" : $" [field {e.Field}]";
        Output.Error($"{what}{e.Code}{status}: {e.Message}{field}");
        if (output.Json)
        {
            WriteErrorJson(e, exit);
        }
        return exit;
    }

    /// <summary>The error as one JSON document on stdout, so a script reading <c>--json</c> always gets JSON.</summary>
    public static void WriteErrorJson(TallyApiException e, int exit) =>
        WriteErrorJson(exit, e.Code, e.Kind, e.Message, e.HttpStatus, writer =>
        {
            if (e.Field is not null)
            {
                writer.WriteString("field", e.Field);
            }
            if (e.RetryAfter is { } retryAfter)
            {
                writer.WriteNumber("retryAfterSeconds", Math.Ceiling(retryAfter.TotalSeconds));
            }
            if (e.RequestId is not null)
            {
                writer.WriteString("requestId", e.RequestId);
            }
        });

    public static void WriteErrorJson(int exit, string code, TallyErrorKind kind, string message, int? httpStatus,
        Action<System.Text.Json.Utf8JsonWriter>? more = null) => Output.WriteJson(writer =>
    {
        writer.WriteStartObject();
        writer.WriteBoolean("success", false);
        writer.WriteNumber("exitCode", exit);
        writer.WriteStartObject("error");
        writer.WriteString("code", code);
        writer.WriteString("kind", kind.ToString());
        writer.WriteString("message", message);
        if (httpStatus is { } status)
        {
            writer.WriteNumber("httpStatus", status);
        }
        more?.Invoke(writer);
        writer.WriteEndObject();
        writer.WriteEndObject();
    });
}
