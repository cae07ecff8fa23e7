using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Tallystick.Server.TransparencyLog;

namespace Tallystick.Server.Tests;

// Goal: the client commands' human tables and --json documents stay exactly as documented (docs/cli.md), so scripts
// and people reading them are never surprised. Method: one scenario against a server of its own, run step by step
// with the real binary, so record ids, sequence numbers and tree sizes are the same on every run; each step waits
// until what it wrote is VERIFIED (a later VERIFIED record proves every earlier entry is under a signed checkpoint).
// Outputs are compared with tests/testdata/golden/cli/ after CliGolden normalises timestamps, hashes and keys.
public sealed partial class CliGoldenTests(RunningServer server) : IClassFixture<RunningServer>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tally-cli-golden-").FullName;

    private string Url => server.BaseAddress.ToString();

    [Fact]
    public async Task ClientCommands_Scenario_MatchGoldenFiles()
    {
        // A file of deltas for another customer, one of them refused: its records come first in the log.
        var file = Path.Combine(_directory, "deltas.jsonl");
        File.WriteAllLines(file,
        [
            """{"customerId":"golden_file","delta":5,"reason":"seat","referenceId":"seat-1"}""",
            """{"customerId":"golden_file","delta":-1.5,"reason":"api calls"}""",
            """{"customerId":"bad customer","delta":1,"reason":"rejected"}""",
        ]);
        await Golden("emit-file.txt", 1, "emit", "--file", file);

        await Golden("emit-wait.txt", 0, "emit", "golden", "100", "--reason", "plan credit", "--reference-id", "inv-1",
            "--wait");
        await Golden("emit-wait.json", 0, "emit", "golden", "-12.5", "--reason", "gpu burst", "--reference-id", "job-1",
            "--metadata", """{"gpu":"a100","hours":2}""", "--wait", "--json");
        var emitted = await Golden("emit.txt", 0, "emit", "golden", "-0.25", "--reason", "api");
        using (var client = server.Client())
        {
            await Api.WaitVerified(client, emitted.Split(' ', ':')[1]);
        }

        await Golden("derive.txt", 0, "derive", "golden");
        await Golden("derive.json", 0, "derive", "golden", "--json");
        await Golden("derive-after.txt", 0, "derive", "golden", "--after", "rec_2", "--starting-balance", "100",
            "--limit", "1");

        await Golden("compare-match.txt", 0, "compare", "golden", "--balance", "87.25");
        await Golden("compare-mismatch.json", 3, "compare", "golden", "--balance", "87", "--their-balance", "87.25",
            "--json");
        var records = Path.Combine(_directory, "records.json");
        File.WriteAllText(records, """[{"referenceId":"inv-1","amount":100},{"referenceId":"job-1","amount":-12},""" +
            """{"referenceId":"job-9","amount":-3}]""");
        await Golden("compare-records.txt", 3, "compare", "golden", "--records", records);

        // A new checkpoint's status is whatever the log has reached when the answer is written: not golden.
        var checkpoint = await Golden("checkpoint.txt", 0, "checkpoint", "golden");
        using (var client = server.Client())
        {
            await WaitCheckpointVerified(client, checkpoint.Split(' ')[1]);
        }
        await Golden("checkpoints.txt", 0, "checkpoints", "golden");
        await Golden("checkpoints.json", 0, "checkpoints", "--json");

        var key = server.Services.GetRequiredService<LogIdentity>().Verifier.VerifierKeyText;
        await Golden("log-checkpoint.txt", 0, "log", "checkpoint", "--log-key", key);
        await Golden("log-checkpoint.json", 0, "log", "checkpoint", "--log-key", key, "--json");
    }

    /// <summary>Runs one step with the server's URL (and key), checks its exit code and golden file, returns stdout.
    /// </summary>
    private async Task<string> Golden(string name, int exit, params string[] args)
    {
        // The log is public: `tally log checkpoint` takes no API key.
        string[] key = args[0] == "log" ? [] : ["--api-key", RunningServer.AcmeTest];
        var (code, output, error) = await CliTests.Tally([.. args, "--url", Url, .. key]);
        Assert.True(code == exit, $"{name}: exit {code}, want {exit}; stderr: {error}");
        CliGolden.Check(name, CheckpointStatusPattern().Replace(output, "$1(<status>)"));
        return output;
    }

    private static async Task WaitCheckpointVerified(HttpClient client, string checkpointId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var (status, body) = await Api.Get(client, $"api/v1/balance/checkpoints/{checkpointId}");
            Assert.Equal(200, status);
            if (body.GetProperty("data").GetProperty("status").GetString() == "VERIFIED")
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, $"{checkpointId} not VERIFIED within 10 s");
            await Task.Delay(5);
        }
    }

    [GeneratedRegex("^(checkpoint chk_[0-9]+ )\\((QUEUED|PROCESSING|VERIFIED)\\)", RegexOptions.Multiline)]
    private static partial Regex CheckpointStatusPattern();

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
