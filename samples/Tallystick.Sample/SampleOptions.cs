namespace Tallystick.Sample;

/// <summary>The sample's command line; each flag may also come from an environment variable.</summary>
internal sealed record SampleOptions(string ApiKey, Uri Url, string Customer, string? LogKey, string? CheckpointFile)
{
    public const string Usage = """
        usage: tallystick-sample --api-key KEY [--url URL] [--customer ID] [--log-key VKEY] [--checkpoint-file FILE]
          --api-key          pk_test_… or pk_live_… (or TALLY_API_KEY)
          --url              the server (or TALLY_URL; default http://127.0.0.1:8080)
          --customer         the customer the usage is for (default sample_customer)
          --log-key          the log's verifier key, pinned out of band (or TALLY_LOG_KEY; default: ask the server)
          --checkpoint-file  where the last verified log checkpoint is kept between runs
        """;

    public static SampleOptions? Parse(string[] args, out string? error)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (args[i] is not ("--api-key" or "--url" or "--customer" or "--log-key" or "--checkpoint-file"))
            {
                error = $"unknown argument '{args[i]}'";
                return null;
            }
            if (i + 1 >= args.Length)
            {
                error = $"{args[i]} needs a value";
                return null;
            }
            values[args[i]] = args[i + 1];
        }
        var apiKey = Value(values, "--api-key", "TALLY_API_KEY");
        var url = Value(values, "--url", "TALLY_URL") ?? "http://127.0.0.1:8080";
        if (apiKey is null)
        {
            error = "--api-key (or TALLY_API_KEY) is required";
            return null;
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            error = $"--url '{url}' is not an absolute URL";
            return null;
        }
        error = null;
        return new SampleOptions(apiKey, uri, values.GetValueOrDefault("--customer", "sample_customer"),
            Value(values, "--log-key", "TALLY_LOG_KEY"), values.GetValueOrDefault("--checkpoint-file"));
    }

    private static string? Value(Dictionary<string, string> values, string flag, string variable) =>
        values.TryGetValue(flag, out var value) ? value : Environment.GetEnvironmentVariable(variable);
}
