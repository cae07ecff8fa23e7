using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tallystick.Cli;
using Tallystick.Server.TransparencyLog;

namespace Tallystick.Server.Tests;

// Goal: the client commands keep their documented exit codes (docs/cli.md: 0 ok, 1 refused, 2 usage, 3 mismatch or
// not verified, 4 unreachable or key refused), file emits chunk and replay without duplicates, and --json always
// prints one JSON document, errors included. Method: the real binary against a real server (each test its own
// customers), a closed port for an unreachable server, and a child environment without TALLY_API_KEY.
public sealed class CliClientCommandTests(RunningServer server) : IClassFixture<RunningServer>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tally-cli-client-").FullName;

    private Task<(int Exit, string Output, string Error)> Tally(params string[] args) =>
        CliTests.Tally([.. args, "--url", server.BaseAddress.ToString(), "--api-key", RunningServer.AcmeTest]);

    [Fact]
    public async Task Compare_MatchExits0_MismatchExits3_ToleranceAgreesExits0()
    {
        Assert.Equal(0, (await Tally("emit", "cmp_exit", "10", "--reason", "r", "--wait")).Exit);

        var match = await Tally("compare", "cmp_exit", "--balance", "10");
        var mismatch = await Tally("compare", "cmp_exit", "--balance", "9.5", "--json");
        var tolerated = await Tally("compare", "cmp_exit", "--balance", "9.5", "--tolerance-absolute", "0.5");

        Assert.Equal(0, match.Exit);
        Assert.StartsWith("MATCH:", match.Output, StringComparison.Ordinal);
        Assert.Equal(3, mismatch.Exit);
        using var json = JsonDocument.Parse(mismatch.Output);
        Assert.False(json.RootElement.GetProperty("match").GetBoolean());
        Assert.Equal(-0.5m, json.RootElement.GetProperty("yourDifference").GetDecimal());
        Assert.Equal(0, tolerated.Exit);
        Assert.StartsWith("WITHIN TOLERANCE:", tolerated.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadApiKey_Exits4_JsonErrorDocument()
    {
        var (exit, output, error) = await CliTests.Tally("derive", "anyone", "--url", server.BaseAddress.ToString(),
            "--api-key", "pk_test_nosuchkey0000.not-a-real-secret-000000000000", "--json");

        Assert.Equal(4, exit);
        Assert.Contains("the server refused the API key: INVALID_API_KEY (HTTP 401)", error, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(output);
        Assert.False(json.RootElement.GetProperty("success").GetBoolean());
        Assert.Equal(4, json.RootElement.GetProperty("exitCode").GetInt32());
        Assert.Equal("INVALID_API_KEY", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(401, json.RootElement.GetProperty("error").GetProperty("httpStatus").GetInt32());
    }

    [Fact]
    public async Task UnreachableServer_Exits4_JsonErrorDocument()
    {
        var url = $"http://127.0.0.1:{ClosedPort()}/";

        var derive = await CliTests.Tally("derive", "anyone", "--url", url, "--api-key", RunningServer.AcmeTest);
        var log = await CliTests.Tally("log", "checkpoint", "--url", url, "--json");

        Assert.Equal(4, derive.Exit);
        Assert.Contains($"cannot reach {url}: NETWORK_ERROR", derive.Error, StringComparison.Ordinal);
        Assert.Equal(4, log.Exit);
        Assert.Contains($"cannot reach {url}", log.Error, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(log.Output);
        Assert.Equal("NETWORK_ERROR", json.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task RefusedRequest_Exits1_WithCodeAndField()
    {
        var zero = await Tally("emit", "refused", "0", "--reason", "nothing");
        var unknown = await Tally("derive", "nobody_here");

        Assert.Equal(1, zero.Exit);
        Assert.Contains("DELTA_MUST_NOT_BE_ZERO (HTTP 400)", zero.Error, StringComparison.Ordinal);
        Assert.Contains("[field delta]", zero.Error, StringComparison.Ordinal);
        Assert.Equal(1, unknown.Exit);
        Assert.Contains("CUSTOMER_NOT_FOUND (HTTP 404)", unknown.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("emit", "usage_c", "5")]                                   // no --reason
    [InlineData("emit", "usage_c", "5x", "--reason", "r")]                 // not an amount
    [InlineData("emit", "usage_c", "1.123456789", "--reason", "r")]        // 9 fraction digits
    [InlineData("emit", "usage_c", "5", "--reason", "r", "--metadata", "{not json")]
    [InlineData("emit", "usage_c", "5", "--reason", "r", "--file", "x.jsonl")]
    [InlineData("emit", "--file", "/nonexistent/deltas.jsonl")]
    [InlineData("derive", "usage_c", "--period", "2025-1")]
    [InlineData("derive", "usage_c", "--period", "2025-01", "--months-back", "1")]
    [InlineData("derive", "usage_c", "--from", "yesterday")]
    [InlineData("derive", "usage_c", "--granularity", "hour")]
    [InlineData("compare", "usage_c")]                                     // nothing to compare
    [InlineData("compare", "usage_c", "--balance", "ten")]
    [InlineData("bench", "--requests", "0")]
    [InlineData("bench", "--batch", "101")]
    [InlineData("derive", "usage_c", "--no-such-option")]
    public async Task BadUsage_Exits2_BeforeAnyRequest(params string[] args)
    {
        var (exit, output, error) = await Tally(args);

        Assert.True(exit == 2, $"exit {exit}; stderr: {error}");
        Assert.Equal("", output);
        Assert.StartsWith("tally: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoApiKey_Exits2()
    {
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "tally.dll"), "derive", "anyone", "--url",
                server.BaseAddress.ToString() },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment.Remove(ServerConnection.ApiKeyVariable);
        using var process = Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("no API key: pass --api-key or set TALLY_API_KEY", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmitFile_ManySlices_ReplayedWithSameKey_RecordsOnce()
    {
        // 1,050 deltas: two SDK batch calls (1,000 + 50), eleven requests of at most 100.
        var file = Path.Combine(_directory, "many.json");
        var items = Enumerable.Range(0, 1050).Select(i => Api.Emit($"file_many_{i % 3}", "1", "bulk"));
        File.WriteAllText(file, "{\"deltas\":[" + string.Join(",", items) + "]}");

        var first = await Tally("emit", "--file", file, "--idempotency-key", "file-many-1", "--json");
        var again = await Tally("emit", "--file", file, "--idempotency-key", "file-many-1", "--json");
        var fresh = await Tally("emit", "--file", file, "--json");

        Assert.True(first.Exit == 0, first.Error);
        using var result = JsonDocument.Parse(first.Output);
        Assert.Equal(1050, result.RootElement.GetProperty("totalQueued").GetInt32());
        Assert.Equal(1049, result.RootElement.GetProperty("results")[1049].GetProperty("index").GetInt32());
        Assert.Equal("1050 deltas sent in 11 requests of at most 100; 33 records",
            result.RootElement.GetProperty("_efficiency").GetProperty("message").GetString());
        Assert.Equal(0, again.Exit);
        Assert.Equal(0, fresh.Exit);
        using var client = server.Client();
        var (status, customer) = await Api.Get(client, "api/v1/balance/customers/file_many_0");
        Assert.Equal(200, status);
        Assert.Equal(700, customer.GetProperty("data").GetProperty("totalDeltas").GetInt64()); // 350 twice, not 3×
    }

    [Fact]
    public async Task EmitFile_UnparseableLine_Exits2_NamingTheLine()
    {
        var file = Path.Combine(_directory, "broken.jsonl");
        File.WriteAllLines(file, [Api.Emit("file_broken", "1"), "", """{"customerId":"file_broken","delta":1}"""]);

        var (exit, output, error) = await Tally("emit", "--file", file);

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.Contains("line 3:", error, StringComparison.Ordinal);
        Assert.Contains("reason", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmitWait_Json_IsTheVerifiedStatus()
    {
        var (exit, output, error) = await Tally("emit", "wait_json", "-3.75", "--reason", "r", "--wait", "--json");

        Assert.True(exit == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("VERIFIED", json.RootElement.GetProperty("status").GetString());
        Assert.Equal(-3.75m, json.RootElement.GetProperty("netDelta").GetDecimal());
    }

    [Fact]
    public async Task LogCheckpoint_WrongKeyExits3_NoKeyPrintsUnchecked_MalformedKeyExits2()
    {
        var key = server.Services.GetRequiredService<LogIdentity>().Verifier.VerifierKeyText;
        var other = Notes.NoteSigner.Generate("test.tallystick/log").Verifier.VerifierKeyText;

        var url = server.BaseAddress.ToString();

        var unchecked_ = await CliTests.Tally("log", "checkpoint", "--url", url);
        var verified = await CliTests.Tally("log", "checkpoint", "--url", url, "--log-key", key);
        var forged = await CliTests.Tally("log", "checkpoint", "--url", url, "--log-key", other, "--json");
        var malformed = await CliTests.Tally("log", "checkpoint", "--url", url, "--log-key", "not-a-key");

        Assert.Equal(0, unchecked_.Exit);
        Assert.StartsWith("checkpoint (signature not checked", unchecked_.Output, StringComparison.Ordinal);
        Assert.Equal(0, verified.Exit);
        Assert.StartsWith("VERIFIED: checkpoint signed by test.tallystick/log+", verified.Output, StringComparison.Ordinal);
        Assert.Equal(3, forged.Exit);
        Assert.Contains("NOT VERIFIED: no signature by test.tallystick/log+", forged.Error, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(forged.Output);
        Assert.False(json.RootElement.GetProperty("verified").GetBoolean());
        Assert.Equal(2, malformed.Exit);
        Assert.Contains("--log-key is not a valid verifier key", malformed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Checkpoint_EmptyWindow_Exits1()
    {
        Assert.Equal(0, (await Tally("emit", "cp_empty", "1", "--reason", "r", "--wait")).Exit);

        var (exit, _, error) = await Tally("checkpoint", "cp_empty", "--period", "2001-01");

        Assert.Equal(1, exit);
        Assert.Contains("EMPTY_WINDOW", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_SmallRun_ReportsEveryRequest()
    {
        var (exit, output, error) = await Tally("bench", "--requests", "20", "--concurrency", "2", "--batch", "5",
            "--customers", "3", "--json");

        Assert.True(exit == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(20, root.GetProperty("ok").GetInt32());
        Assert.Equal(0, root.GetProperty("failed").GetInt32());
        Assert.Equal(100, root.GetProperty("deltas").GetInt64());
        var latency = root.GetProperty("latencyMs");
        var (p50, p95, p99, max) = (latency.GetProperty("p50").GetDouble(), latency.GetProperty("p95").GetDouble(),
            latency.GetProperty("p99").GetDouble(), latency.GetProperty("max").GetDouble());
        Assert.True(p50 > 0 && p50 <= p95 && p95 <= p99 && p99 <= max, $"{p50} {p95} {p99} {max}");
    }

    [Fact]
    public void Percentile_NearestRank()
    {
        double[] sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

        Assert.Equal(5, BenchCommand.Percentile(sorted, 0.50));
        Assert.Equal(10, BenchCommand.Percentile(sorted, 0.95));
        Assert.Equal(1, BenchCommand.Percentile(sorted, 0.01));
        Assert.Equal(7, BenchCommand.Percentile([7], 0.99));
        Assert.True(double.IsNaN(BenchCommand.Percentile([], 0.5)));
    }

    [Fact]
    public async Task Help_ListsExitCodes()
    {
        var (exit, output, _) = await CliTests.Tally("compare", "--help");

        Assert.Equal(0, exit);
        Assert.Contains("3 mismatch", output, StringComparison.Ordinal);
        Assert.Contains("--api-key", output, StringComparison.Ordinal);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port; // Closed again on dispose: connections are refused.
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
