using System.Globalization;
using System.Text.Json;

namespace Tallystick.Server;

/// <summary>
/// Service settings. Precedence: command-line flag, then environment variable (<c>TALLY_…</c>), then the
/// optional JSON config file (<c>--config FILE</c> or <c>TALLY_CONFIG</c>; keys as in the table in README.md),
/// then the default. Validated once at start; an invalid setting stops the service with a message naming it.
/// </summary>
public sealed class TallyOptions
{
    /// <summary>Listen URLs (semicolon-separated). Env TALLY_URLS, key "urls". Default http://127.0.0.1:8080.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Data directory (database, log key). Env TALLY_DATA_DIR, key "dataDir". Default ./data.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The log's origin line, used only when the log is created. Env TALLY_LOG_ORIGIN, key "logOrigin".</summary>
    public string? LogOrigin { get; set; }

    /// <summary>Keys to ensure at start, comma-separated (<c>[tenant=]pk_…</c>). Env TALLY_BOOTSTRAP_API_KEY.</summary>
    public string? BootstrapApiKeys { get; set; }

    /// <summary>Minimum time between signed checkpoints. Env TALLY_CHECKPOINT_INTERVAL_MS. Default 10 ms.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>How long Idempotency-Key answers are kept (at least 30 days). Env TALLY_IDEMPOTENCY_RETENTION_DAYS.</summary>
    public TimeSpan IdempotencyRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Durable deltas waiting before a copy into customer_rows starts (<see cref="Deltas.CustomerRows"/>).
    /// Not a setting: tests lower it and <see cref="CustomerRowsMergeDelay"/> to exercise copies with few deltas.</summary>
    internal int CustomerRowsMergeDeltasMin { get; set; } = Deltas.CustomerRows.MergeDeltasMin;

    /// <summary>How long the oldest uncopied durable delta waits at most before a copy into customer_rows starts.</summary>
    internal TimeSpan CustomerRowsMergeDelay { get; set; } = Deltas.CustomerRows.MergeDelayMax;

    /// <summary>Time allowed to finish acknowledged work on SIGTERM. Env TALLY_SHUTDOWN_TIMEOUT_SECONDS. Default 30 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Public base URL used in links (verify URLs). Env TALLY_PUBLIC_URL. Default: the first listen URL.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>
    /// Lets webhook endpoints target loopback, private, link-local, CGNAT and metadata addresses (refused by default:
    /// SSRF). For local development and tests only. Env TALLY_WEBHOOKS_ALLOW_PRIVATE_TARGETS, key
    /// "webhooksAllowPrivateTargets". Default false.
    /// </summary>
    public bool WebhooksAllowPrivateTargets { get; set; }

    /// <summary>Test seam: the webhook retry schedule and timeouts (the production one when null).</summary>
    internal Webhooks.WebhookSchedule? WebhookSchedule { get; set; }

    /// <summary>Reads the environment and an optional config file over the defaults; flags are applied by the caller.</summary>
    public static TallyOptions Load(IReadOnlyDictionary<string, string?> environment, string? configFile)
    {
        var options = new TallyOptions();
        configFile ??= environment.GetValueOrDefault("TALLY_CONFIG");
        if (configFile is not null)
        {
            options.ApplyFile(configFile);
        }
        Apply("TALLY_URLS", environment, v => options.Urls = v);
        Apply("TALLY_DATA_DIR", environment, v => options.DataDirectory = v);
        Apply("TALLY_LOG_ORIGIN", environment, v => options.LogOrigin = v);
        Apply("TALLY_BOOTSTRAP_API_KEY", environment, v => options.BootstrapApiKeys = v);
        Apply("TALLY_PUBLIC_URL", environment, v => options.PublicUrl = v);
        Apply("TALLY_WEBHOOKS_ALLOW_PRIVATE_TARGETS", environment,
            v => options.WebhooksAllowPrivateTargets = ParseBool("TALLY_WEBHOOKS_ALLOW_PRIVATE_TARGETS", v));
        Apply("TALLY_CHECKPOINT_INTERVAL_MS", environment,
            v => options.CheckpointInterval = TimeSpan.FromMilliseconds(ParseNumber("TALLY_CHECKPOINT_INTERVAL_MS", v)));
        Apply("TALLY_IDEMPOTENCY_RETENTION_DAYS", environment,
            v => options.IdempotencyRetention = TimeSpan.FromDays(ParseNumber("TALLY_IDEMPOTENCY_RETENTION_DAYS", v)));
        Apply("TALLY_SHUTDOWN_TIMEOUT_SECONDS", environment,
            v => options.ShutdownTimeout = TimeSpan.FromSeconds(ParseNumber("TALLY_SHUTDOWN_TIMEOUT_SECONDS", v)));
        return options;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (CheckpointInterval < TimeSpan.Zero || CheckpointInterval > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentException("checkpoint interval must be 0–60000 ms");
        }
        if (IdempotencyRetention < TimeSpan.FromDays(30))
        {
            throw new ArgumentException("idempotency retention must be at least 30 days");
        }
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new ArgumentException("data directory must not be empty");
        }
        foreach (var url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            {
                throw new ArgumentException($"listen URL '{url}' must be an absolute http(s) URL");
            }
        }
    }

    private static void Apply(string name, IReadOnlyDictionary<string, string?> environment, Action<string> set)
    {
        if (environment.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value))
        {
            set(value);
        }
    }

    private void ApplyFile(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        foreach (var property in document.RootElement.EnumerateObject())
        {
            var value = property.Value.ValueKind == JsonValueKind.String
                ? property.Value.GetString()!
                : property.Value.GetRawText();
            switch (property.Name)
            {
                case "urls": Urls = value; break;
                case "dataDir": DataDirectory = value; break;
                case "logOrigin": LogOrigin = value; break;
                case "bootstrapApiKeys": BootstrapApiKeys = value; break;
                case "publicUrl": PublicUrl = value; break;
                case "webhooksAllowPrivateTargets": WebhooksAllowPrivateTargets = ParseBool(property.Name, value); break;
                case "checkpointIntervalMs": CheckpointInterval = TimeSpan.FromMilliseconds(ParseNumber(property.Name, value)); break;
                case "idempotencyRetentionDays": IdempotencyRetention = TimeSpan.FromDays(ParseNumber(property.Name, value)); break;
                case "shutdownTimeoutSeconds": ShutdownTimeout = TimeSpan.FromSeconds(ParseNumber(property.Name, value)); break;
                default: throw new ArgumentException($"unknown setting '{property.Name}' in {path}");
            }
        }
    }

    private static bool ParseBool(string name, string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => throw new ArgumentException($"{name} must be true or false, got '{value}'"),
    };

    private static double ParseNumber(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
            ? number
            : throw new ArgumentException($"{name} must be a number, got '{value}'");
}
