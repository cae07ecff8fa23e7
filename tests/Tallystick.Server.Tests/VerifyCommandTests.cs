using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Tallystick.Server.TransparencyLog;

namespace Tallystick.Server.Tests;

// Goal: `tally verify` checks a saved proof bundle offline with the documented exit codes: 0 verified, 1 not verified
// (with the failed step and reason), 2 usage or I/O error. Method: run the real binary on the golden bundle, on a
// tampered copy, on a bundle saved from a running server (the whole {success,data} answer), and with bad arguments.
public sealed class VerifyCommandTests(RunningServer server) : IClassFixture<RunningServer>, IDisposable
{
    private static readonly string GoldenPath = Path.Combine(AppContext.BaseDirectory, "testdata", "golden", "proof-bundle-v1.json");
    private static readonly string GoldenKey = File.ReadAllText(Path.ChangeExtension(GoldenPath, ".vkey")).Trim();

    private readonly string _directory = Directory.CreateTempSubdirectory("tally-verify-").FullName;

    [Fact]
    public async Task Verify_GoldenBundle_Exit0WithSummary()
    {
        var (exit, output, error) = await CliTests.Tally("verify", GoldenPath, "--log-key", GoldenKey);

        Assert.True(exit == 0, error);
        Assert.StartsWith("VERIFIED: delta 2 of 3 of record rec_42", output, StringComparison.Ordinal);
        Assert.Contains("under checkpoint size 7", output, StringComparison.Ordinal);
        Assert.Contains("amount      -42.5", output, StringComparison.Ordinal);
        Assert.Contains("sequence    1041", output, StringComparison.Ordinal);
        Assert.Contains("0x2f18caa60fa58aeb1de7ad1fdc2333a7cff09d4d (labelled 'cust_12345'", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_TamperedAmount_Exit3WithStepAndReason()
    {
        var tampered = Path.Combine(_directory, "tampered.json");
        File.WriteAllText(tampered, File.ReadAllText(GoldenPath).Replace("\"delta\": -42.5", "\"delta\": -4.25", StringComparison.Ordinal));

        var (exit, output, error) = await CliTests.Tally("verify", tampered, "--log-key", GoldenKey);
        var (jsonExit, json, _) = await CliTests.Tally("verify", tampered, "--log-key", GoldenKey, "--json");

        Assert.Equal(3, exit);
        Assert.Equal("", output);
        Assert.Contains("NOT VERIFIED: ItemFields: canonicalItem's \"amount\" is \"-42.5\", but the bundle shows delta \"-4.25\"",
            error, StringComparison.Ordinal);
        Assert.Equal(3, jsonExit);
        using var result = JsonDocument.Parse(json);
        Assert.False(result.RootElement.GetProperty("verified").GetBoolean());
        Assert.Equal("ItemFields", result.RootElement.GetProperty("failedStep").GetString());
    }

    [Fact]
    public async Task Verify_AnswerSavedFromTheServer_Exit0()
    {
        using var client = server.Client();
        var (_, emitted) = await Api.Post(client, "api/v1/balance/delta", Api.Emit("cli_verify", "-7.5", "cli"));
        var recordId = emitted.GetProperty("data").GetProperty("recordId").GetString()!;
        await Api.WaitVerified(client, recordId);
        var saved = Path.Combine(_directory, "answer.json");
        File.WriteAllText(saved, await client.GetStringAsync($"api/v1/balance/delta/{recordId}/proof"));
        var key = server.Services.GetRequiredService<LogIdentity>().Verifier.VerifierKeyText;

        var (exit, output, error) = await CliTests.Tally("verify", saved, "--log-key", key, "--json");

        Assert.True(exit == 0, error);
        using var result = JsonDocument.Parse(output);
        Assert.True(result.RootElement.GetProperty("verified").GetBoolean());
        Assert.Equal(-7.5m, result.RootElement.GetProperty("delta").GetDecimal());
        Assert.Equal("test.tallystick/log", result.RootElement.GetProperty("checkpoint").GetProperty("origin").GetString());
        // The golden key is not this log's key: the same file is refused.
        Assert.Equal(3, (await CliTests.Tally("verify", saved, "--log-key", GoldenKey)).Exit);
    }

    [Fact]
    public async Task Verify_UsageAndReadErrors_Exit2_NotABundle_Exit3()
    {
        var notABundle = Path.Combine(_directory, "other.json");
        File.WriteAllText(notABundle, "{\"success\":false,\"code\":\"RECORD_NOT_FOUND\"}");

        var missing = await CliTests.Tally("verify", Path.Combine(_directory, "absent.json"), "--log-key", GoldenKey);
        var badKey = await CliTests.Tally("verify", GoldenPath, "--log-key", "example+00000000+AAAA");
        var noKey = await CliTests.Tally("verify", GoldenPath);
        var other = await CliTests.Tally("verify", notABundle, "--log-key", GoldenKey);

        Assert.Equal(2, missing.Exit);
        Assert.Contains("cannot read", missing.Error, StringComparison.Ordinal);
        Assert.Equal(2, badKey.Exit);
        Assert.Contains("--log-key is not a valid verifier key", badKey.Error, StringComparison.Ordinal);
        Assert.Equal(2, noKey.Exit);
        Assert.Equal(3, other.Exit);
        Assert.Contains("not a proof bundle: the file holds an unsuccessful answer (RECORD_NOT_FOUND)", other.Error,
            StringComparison.Ordinal);
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
