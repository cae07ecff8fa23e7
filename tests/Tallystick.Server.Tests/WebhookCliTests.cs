using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Tallystick.Webhooks;

namespace Tallystick.Server.Tests;

// Goal: `tally webhooks endpoints …` and `tally webhooks listen` behave as documented: the API's rules and JSON
// shapes, exit codes 0 ok / 1 failed / 2 usage, --help and --json on every command, and a listener that prints a
// real signed delivery from a running server as verified and refuses a badly signed request with 401.
// Method: run the real binary built next to the tests on a temp data directory (and, for listen, as a long-running
// child process stopped with SIGTERM), against an in-process server delivering to it on loopback.
public sealed class WebhookCliTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "tally-wh-cli-" + Guid.NewGuid().ToString("N"));

    private static readonly Dictionary<string, string> None = [];

    private static readonly Dictionary<string, string> AllowPrivate = new()
    {
        ["TALLY_WEBHOOKS_ALLOW_PRIVATE_TARGETS"] = "true",
    };

    [Fact]
    public async Task Endpoints_CreateListUpdateDelete_JsonAndExitCodes()
    {
        Assert.Equal(0, (await Tally(None, "keys", "create", "--tenant", "acme", "--env", "test", "--data", _data)).Exit);
        string[] plane = ["--tenant", "acme", "--env", "test", "--data", _data];

        var (created, json, _) = await Tally(AllowPrivate, ["webhooks", "endpoints", "create", .. plane,
            "--url", "http://127.0.0.1:9/hook", "--events", "delta.verified", "--description", "cli", "--json"]);
        Assert.Equal(0, created);
        var endpoint = JsonDocument.Parse(json).RootElement;
        var id = endpoint.GetProperty("id").GetString()!;
        Assert.Matches("^whsec_[A-Za-z0-9+/]{43}=$", endpoint.GetProperty("secret").GetString()!);
        Assert.Equal("delta.verified", endpoint.GetProperty("events")[0].GetString());
        Assert.True(endpoint.GetProperty("enabled").GetBoolean());

        var (updated, patched, _) = await Tally(AllowPrivate, ["webhooks", "endpoints", "update", .. plane, "--id", id,
            "--disable", "--all-events", "--url", "http://127.0.0.1:10/hook", "--json"]);
        Assert.Equal(0, updated);
        var after = JsonDocument.Parse(patched).RootElement;
        Assert.False(after.GetProperty("enabled").GetBoolean());
        Assert.True(after.GetProperty("allEvents").GetBoolean());
        Assert.Equal("http://127.0.0.1:10/hook", after.GetProperty("url").GetString());
        Assert.False(after.TryGetProperty("secret", out _));

        var (listed, list, _) = await Tally(None, ["webhooks", "endpoints", "list", .. plane, "--json"]);
        Assert.Equal(0, listed);
        var only = Assert.Single(JsonDocument.Parse(list).RootElement.EnumerateArray());
        Assert.Equal(id, only.GetProperty("id").GetString());
        Assert.False(only.TryGetProperty("secret", out _));
        var (_, table, _) = await Tally(None, ["webhooks", "endpoints", "list", .. plane]);
        Assert.Contains($"{id}", table, StringComparison.Ordinal);
        Assert.Contains("disabled", table, StringComparison.Ordinal);

        var (deleted, gone, _) = await Tally(None, ["webhooks", "endpoints", "delete", .. plane, "--id", id, "--json"]);
        Assert.Equal(0, deleted);
        Assert.True(JsonDocument.Parse(gone).RootElement.GetProperty("deleted").GetBoolean());
        Assert.Equal("[]", (await Tally(None, ["webhooks", "endpoints", "list", .. plane, "--json"])).Output.Trim());
        Assert.Equal(1, (await Tally(None, ["webhooks", "endpoints", "delete", .. plane, "--id", id])).Exit);
        Assert.Equal(1, (await Tally(AllowPrivate, ["webhooks", "endpoints", "update", .. plane, "--id", id,
            "--enable"])).Exit);
    }

    [Fact]
    public async Task Endpoints_RefusedUsage_ExitsTwoWithReason()
    {
        Assert.Equal(0, (await Tally(None, "keys", "create", "--tenant", "acme", "--env", "test", "--data", _data)).Exit);
        string[] plane = ["--tenant", "acme", "--env", "test", "--data", _data];

        var (ssrf, _, ssrfError) = await Tally(None, ["webhooks", "endpoints", "create", .. plane,
            "--url", "http://169.254.169.254/latest/meta-data"]);
        Assert.Equal(2, ssrf);
        Assert.Contains("WEBHOOK_URL_NOT_ALLOWED", ssrfError, StringComparison.Ordinal);
        var (events, _, eventsError) = await Tally(AllowPrivate, ["webhooks", "endpoints", "create", .. plane,
            "--url", "http://127.0.0.1:9/hook", "--events", "delta.nope"]);
        Assert.Equal(2, events);
        Assert.Contains("unknown event type", eventsError, StringComparison.Ordinal);
        var (nothing, _, nothingError) = await Tally(None, ["webhooks", "endpoints", "update", .. plane, "--id", "we_1"]);
        Assert.Equal(2, nothing);
        Assert.Contains("nothing to change", nothingError, StringComparison.Ordinal);
        var (tenant, _, tenantError) = await Tally(None, ["webhooks", "endpoints", "list", "--tenant", "nobody",
            "--env", "test", "--data", _data]);
        Assert.Equal(2, tenant);
        Assert.Contains("no test environment", tenantError, StringComparison.Ordinal);
        Assert.Equal(2, (await Tally(None, ["webhooks", "endpoints", "create", .. plane])).Exit); // --url is required
        Assert.Equal(0, (await Tally(None, ["webhooks", "endpoints", "list", .. plane])).Exit);
    }

    [Theory]
    [InlineData("webhooks", "endpoints")]
    [InlineData("webhooks", "endpoints", "create")]
    [InlineData("webhooks", "endpoints", "list")]
    [InlineData("webhooks", "endpoints", "update")]
    [InlineData("webhooks", "endpoints", "delete")]
    [InlineData("webhooks", "endpoints", "rotate-secret")]
    [InlineData("webhooks", "listen")]
    public async Task Help_EveryWebhookCommand_DocumentsExitCodes(params string[] command)
    {
        var (exit, output, _) = await Tally(None, [.. command, "--help"]);

        Assert.Equal(0, exit);
        Assert.Contains("Exit codes: 0", output, StringComparison.Ordinal);
        Assert.Contains("2 usage", output, StringComparison.Ordinal);
        if (command.Length == 3 || command[^1] == "listen")
        {
            Assert.Contains("--json", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Listen_RealDeliveryFromServer_PrintedVerified_BadSignatureRefused401()
    {
        var server = new RunningServer { AllowPrivateWebhookTargets = true };
        await server.InitializeAsync();
        var port = FreePort();
        try
        {
            using var client = server.Client();
            var (status, created) = await Api.Post(client, "api/v1/webhooks/endpoints",
                $"{{\"url\":\"http://127.0.0.1:{port}/hook\",\"events\":[\"delta.verified\"]}}");
            Assert.Equal(201, status);
            var secret = created.GetProperty("data").GetProperty("secret").GetString()!;
            await using var listener = await Listener.Start("webhooks", "listen", "--port",
                port.ToString(CultureInfo.InvariantCulture), "--secret", secret);

            await Api.Post(client, "api/v1/balance/delta", Api.Emit("cust_listen", "-7.5", referenceId: "job_7"));
            var line = await listener.WaitForLine(l => l.Contains("delta.verified", StringComparison.Ordinal),
                "the delta.verified delivery");

            Assert.Matches("^evt_[0-9]+ delta.verified standard-webhooks=Verified pacspace=Verified -> 200$", line);
            await listener.WaitForLine(l => l.Contains("\"referenceId\": \"job_7\"", StringComparison.Ordinal),
                "the pretty-printed payload");
            // The listener's 200 is recorded at the dispatcher's next pass.
            var deadline = DateTime.UtcNow.AddSeconds(15);
            JsonElement deliveries;
            do
            {
                await Task.Delay(10);
                deliveries = (await Api.Get(client, "api/v1/balance/webhooks?status=delivered")).Body.GetProperty("data")
                    .GetProperty("deliveries");
            }
            while (deliveries.GetArrayLength() == 0 && DateTime.UtcNow < deadline);
            Assert.Equal(200, deliveries[0].GetProperty("lastStatusCode").GetInt32());

            using var forged = new HttpClient();
            var response = await forged.SendAsync(Signed(port, "whsec_" + Convert.ToBase64String(new byte[32]), "evt_forged"));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var refused = await listener.WaitForLine(l => l.StartsWith("evt_forged ", StringComparison.Ordinal), "the forgery");
            Assert.Contains("standard-webhooks=SignatureMismatch pacspace=SignatureMismatch -> 401", refused,
                StringComparison.Ordinal);
            Assert.Equal(0, await listener.Terminate());
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Listen_Json_OneObjectPerRequest_RotationSecretsAndRefusals()
    {
        var port = FreePort();
        var current = WebhookSignatures.GenerateSecret();
        var previous = WebhookSignatures.GenerateSecret();
        await using var listener = await Listener.Start("webhooks", "listen", "--port",
            port.ToString(CultureInfo.InvariantCulture), "--secret", current, "--secret", previous, "--json");
        using var client = new HttpClient();

        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Signed(port, previous, "evt_41"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await client.SendAsync(Signed(port, WebhookSignatures.GenerateSecret(), "evt_42"))).StatusCode);
        using var unsigned = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/")
        {
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        };
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(unsigned)).StatusCode);

        var good = JsonDocument.Parse(await listener.WaitForLine(l => l.Contains("evt_41", StringComparison.Ordinal),
            "evt_41")).RootElement;
        Assert.True(good.GetProperty("verified").GetBoolean());
        Assert.Equal(200, good.GetProperty("status").GetInt32());
        Assert.Equal("Verified", good.GetProperty("standardWebhooks").GetString());
        Assert.Equal("test", good.GetProperty("payload").GetProperty("event").GetString());
        var bad = JsonDocument.Parse(await listener.WaitForLine(l => l.Contains("evt_42", StringComparison.Ordinal),
            "evt_42")).RootElement;
        Assert.False(bad.GetProperty("verified").GetBoolean());
        Assert.Equal("SignatureMismatch", bad.GetProperty("pacSpace").GetString());
        var missing = JsonDocument.Parse(await listener.WaitForLine(l => l.Contains("\"eventId\":null",
            StringComparison.Ordinal), "the unsigned request")).RootElement;
        Assert.Equal(401, missing.GetProperty("status").GetInt32());
        Assert.Equal(0, await listener.Terminate());
    }

    [Fact]
    public async Task Listen_PortInUse_ExitsTwo()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (exit, _, error) = await Tally(None, "webhooks", "listen", "--port", port.ToString(CultureInfo.InvariantCulture),
            "--secret", WebhookSignatures.GenerateSecret());

        Assert.Equal(2, exit);
        Assert.Contains($"cannot listen on 127.0.0.1:{port}", error, StringComparison.Ordinal);
    }

    /// <summary>A request signed the way the server signs a delivery (both schemes), with one secret.</summary>
    private static HttpRequestMessage Signed(int port, string secret, string eventId)
    {
        var now = DateTimeOffset.UtcNow;
        var milliseconds = now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var seconds = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var body = Encoding.UTF8.GetBytes($"{{\"id\":\"{eventId}\",\"event\":\"test\",\"data\":{{}}}}");
        var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/hook")
        {
            Content = new ByteArrayContent(body),
        };
        request.Headers.Add("X-Event-ID", eventId);
        request.Headers.Add("X-Webhook-Event", "test");
        request.Headers.Add("X-PacSpace-Timestamp", milliseconds);
        request.Headers.Add("X-PacSpace-Signature", WebhookSignatures.PacSpace(secret, milliseconds, body));
        request.Headers.Add("webhook-id", eventId);
        request.Headers.Add("webhook-timestamp", seconds);
        request.Headers.Add("webhook-signature", WebhookSignatures.Standard(secret, eventId, seconds, body));
        return request;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task<(int Exit, string Output, string Error)> Tally(Dictionary<string, string> environment,
        params string[] args) => Run(environment, args);

    /// <summary>Runs the real <c>tally</c> binary to completion, with extra environment variables.</summary>
    private static async Task<(int Exit, string Output, string Error)> Run(Dictionary<string, string> environment,
        string[] args)
    {
        using var process = Process.Start(StartInfo(environment, args))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    private static ProcessStartInfo StartInfo(Dictionary<string, string> environment, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tally.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        return info;
    }

    /// <summary><c>tally webhooks listen</c> as a child process: its output lines as they come; stopped with SIGTERM.
    /// </summary>
    private sealed class Listener : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();

        private Listener(Process process) => _process = process;

        public static async Task<Listener> Start(params string[] args)
        {
            var process = Process.Start(StartInfo(None, args))!;
            var listener = new Listener(process);
            var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    listener._lines.Enqueue(e.Data);
                }
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data?.Contains("listening on", StringComparison.Ordinal) == true)
                {
                    listening.TrySetResult();
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var started = await Task.WhenAny(listening.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(30)));
            Assert.True(started == listening.Task, "tally webhooks listen did not start listening");
            return listener;
        }

        /// <summary>The first output line matching <paramref name="predicate"/>; fails after 15 s.</summary>
        public async Task<string> WaitForLine(Func<string, bool> predicate, string what)
        {
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (true)
            {
                if (_lines.FirstOrDefault(predicate) is { } line)
                {
                    return line;
                }
                Assert.True(DateTime.UtcNow < deadline, $"listen printed no line for {what}:\n{string.Join('\n', _lines)}");
                await Task.Delay(10);
            }
        }

        /// <summary>Sends SIGTERM and returns the exit code.</summary>
        public async Task<int> Terminate()
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _process.WaitForExitAsync(timeout.Token);
            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
        }
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
