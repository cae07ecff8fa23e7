using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Tallystick.Server.Tests;

/// <summary>
/// A real server (Kestrel on a loopback port, SQLite in a fresh temporary directory) with three bootstrap keys:
/// tenant acme (test and live) and tenant globex (test). Each test class gets its own, so no test sees another's data.
/// </summary>
public sealed class RunningServer : IAsyncLifetime
{
    public const string AcmeTest = "pk_test_acmeacme0001.acme-test-secret-0000000001";
    public const string AcmeLive = "pk_live_acmeacme0002.acme-live-secret-0000000002";
    public const string GlobexTest = "pk_test_globexgl0003.globex-test-secret-00000003";

    private WebApplication? _app;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "tally-test-" + Guid.NewGuid().ToString("N"));

    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Minimum time between checkpoints; a long one keeps new records unverified for a test's duration
    /// (the first checkpoint after start is still signed at once).</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>TALLY_PUBLIC_URL: the base of absolute links (verify URLs); null uses the request's host.</summary>
    public string? PublicUrl { get; init; }

    public IServiceProvider Services => _app!.Services;

    /// <summary>Webhook receivers in tests listen on loopback, which production refuses (SSRF).</summary>
    public bool AllowPrivateWebhookTargets { get; init; } = true;

    /// <summary>A short webhook retry schedule keeps retry tests fast; null = production schedule.</summary>
    internal Webhooks.WebhookSchedule? WebhookSchedule { get; init; }

    /// <summary>How long durable deltas wait before they are copied into customer_rows: short by default, so most
    /// tests read copied rows; long to keep the copier away (tests that copy with CustomerRows.MergeOnce).</summary>
    internal TimeSpan CustomerRowsMergeDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    public async Task InitializeAsync()
    {
        var options = new TallyOptions
        {
            Urls = "http://127.0.0.1:0",
            DataDirectory = DataDirectory,
            BootstrapApiKeys = $"acme={AcmeTest},acme={AcmeLive},globex={GlobexTest}",
            CheckpointInterval = CheckpointInterval,
            LogOrigin = "test.tallystick/log",
            PublicUrl = PublicUrl,
            WebhooksAllowPrivateTargets = AllowPrivateWebhookTargets,
            WebhookSchedule = WebhookSchedule,
            CustomerRowsMergeDelay = CustomerRowsMergeDelay,
        };
        _app = TallyServer.Build(options, logging: _ => { });
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address + "/");
    }

    /// <summary>Stops the server like a SIGTERM would (final checkpoint signed, database closed) and keeps the data
    /// directory, so tests can inspect or copy a stopped server's data.</summary>
    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public HttpClient Client(string? apiKey = AcmeTest)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }
        return client;
    }
}

/// <summary>Small request/response helpers for the HTTP tests.</summary>
public static class Api
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<(int Status, JsonElement Body)> Post(HttpClient client, string path, string json,
        string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(json) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        using var response = await client.SendAsync(request);
        return ((int)response.StatusCode, await Read(response));
    }

    public static async Task<(int Status, JsonElement Body)> Get(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return ((int)response.StatusCode, await Read(response));
    }

    public static async Task<JsonElement> Read(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public static string Code(JsonElement body) => body.GetProperty("error").GetProperty("code").GetString()!;

    /// <summary>Polls a record until it is VERIFIED (the pipeline signs within milliseconds); fails after 10 s.</summary>
    public static async Task<JsonElement> WaitVerified(HttpClient client, string recordId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var (status, body) = await Get(client, $"api/v1/balance/delta/{recordId}");
            Assert.Equal(200, status);
            var data = body.GetProperty("data");
            if (data.GetProperty("status").GetString() == "VERIFIED")
            {
                return data;
            }
            Assert.True(DateTime.UtcNow < deadline, $"{recordId} not VERIFIED within 10 s");
            await Task.Delay(5);
        }
    }

    /// <summary>Emits one delta for each of <paramref name="count"/> distinct customers, in batches of 100 (each
    /// customer of a batch is one record, hence one log entry), and waits until the last one is VERIFIED.</summary>
    public static async Task EmitDistinctCustomers(HttpClient client, string prefix, int count)
    {
        string? last = null;
        for (var start = 0; start < count; start += 100)
        {
            var items = Enumerable.Range(start, Math.Min(100, count - start)).Select(i => Emit($"{prefix}_{i}", "1"));
            var (status, body) = await Post(client, "api/v1/balance/delta/batch", "{\"deltas\":[" + string.Join(",", items) + "]}");
            Assert.Equal(201, status);
            last = body.GetProperty("data").GetProperty("results").EnumerateArray().Last().GetProperty("recordId").GetString();
        }
        await WaitVerified(client, last!);
    }

    public static string Emit(string customer, string delta, string reason = "usage", string? referenceId = null) =>
        $"{{\"customerId\":\"{customer}\",\"delta\":{delta},\"reason\":\"{reason}\"" +
        (referenceId is null ? "" : $",\"referenceId\":\"{referenceId}\"") + "}";

}
