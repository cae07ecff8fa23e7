using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Tallystick.Server;

namespace Tallystick.Client.Tests;

/// <summary>
/// A real server (Kestrel on a loopback port, SQLite in a fresh temporary directory) with two bootstrap keys, the
/// same approach as Server.Tests' RunningServer. Each test class gets its own, and each test uses its own customer
/// ids, so no test sees another's data.
/// </summary>
public sealed class InProcessServer : IAsyncLifetime
{
    public const string AcmeTest = "pk_test_acmeacme0001.acme-test-secret-0000000001";
    public const string GlobexTest = "pk_test_globexgl0003.globex-test-secret-00000003";

    private WebApplication? _app;

    public string DataDirectory { get; } =
        Path.Combine(Path.GetTempPath(), "tally-client-test-" + Guid.NewGuid().ToString("N"));

    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    public async Task InitializeAsync()
    {
        var options = new TallyOptions
        {
            Urls = "http://127.0.0.1:0",
            DataDirectory = DataDirectory,
            BootstrapApiKeys = $"acme={AcmeTest},globex={GlobexTest}",
            CheckpointInterval = TimeSpan.FromMilliseconds(1),
            LogOrigin = "test.tallystick/client-log",
            // Webhook receivers in tests listen on loopback, which production refuses (SSRF).
            WebhooksAllowPrivateTargets = true,
        };
        _app = TallyServer.Build(options, logging: _ => { });
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!
            .Addresses.First();
        BaseAddress = new Uri(address + "/");
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A client on the real clock with fast retries (no backoff); without a key when
    /// <paramref name="apiKey"/> is null. Over <paramref name="handler"/> when given, so a test can watch or disturb
    /// the traffic (the test then disposes the handler); otherwise the client owns its connection and disposing it
    /// releases that.</summary>
    public TallyClient Client(string? apiKey = AcmeTest, HttpMessageHandler? handler = null)
    {
        var options = new TallyClientOptions { ApiKey = apiKey, BaseAddress = BaseAddress, Jitter = () => 0 };
        return handler is null ? new TallyClient(options) : new TallyClient(new HttpClient(handler, false), options);
    }
}
