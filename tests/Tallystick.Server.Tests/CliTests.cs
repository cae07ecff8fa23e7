using System.Diagnostics;
using System.Text.Json;

namespace Tallystick.Server.Tests;

// Goal: the `tally` command behaves as documented: keys are printed once and work, list never shows secrets,
// revoke reports what it did, bad usage exits 2. Method: run the real binary (built next to the tests) on a temp
// data directory and check output and exit codes.
public sealed class CliTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "tally-cli-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task KeysCreateListRevoke_RoundTrip()
    {
        var (created, output, _) = await Tally("keys", "create", "--tenant", "acme", "--env", "live", "--data", _data, "--json");
        Assert.Equal(0, created);
        using var json = JsonDocument.Parse(output);
        var key = json.RootElement.GetProperty("key").GetString()!;
        Assert.Matches("^pk_live_[a-z0-9]{16}\\.[A-Za-z0-9]{40}$", key);
        var publicId = json.RootElement.GetProperty("publicId").GetString()!;

        var (listed, list, _) = await Tally("keys", "list", "--data", _data);
        Assert.Equal(0, listed);
        Assert.Contains($"pk_live_{publicId}", list, StringComparison.Ordinal);
        Assert.Contains("active", list, StringComparison.Ordinal);
        Assert.DoesNotContain(key.Split('.')[1], list, StringComparison.Ordinal);

        Assert.Equal(0, (await Tally("keys", "revoke", publicId, "--data", _data)).Exit);
        Assert.Equal(1, (await Tally("keys", "revoke", publicId, "--data", _data)).Exit);
        var (_, after, _) = await Tally("keys", "list", "--data", _data, "--json");
        using var afterJson = JsonDocument.Parse(after);
        Assert.NotNull(afterJson.RootElement[0].GetProperty("revokedAt").GetString());
    }

    [Fact]
    public async Task BadUsage_ExitsNonZeroWithMessage()
    {
        var (exit, _, error) = await Tally("keys", "create", "--tenant", "acme", "--env", "prod", "--data", _data);
        Assert.NotEqual(0, exit);
        Assert.False(string.IsNullOrWhiteSpace(error));
        var (badTenant, _, message) = await Tally("keys", "create", "--tenant", "bad name", "--env", "test", "--data", _data);
        Assert.Equal(2, badTenant);
        Assert.Contains("tenant name", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_SecondServerOnSameDataDirectory_RefusesToStart()
    {
        using var first = await ServerProcess.Start(_data);
        var (exit, _, error) = await Tally("serve", "--urls", "http://127.0.0.1:0", "--data", _data);
        Assert.Equal(2, exit);
        Assert.Contains("in use by another Tallystick server", error, StringComparison.Ordinal);
    }

    internal static async Task<(int Exit, string Output, string Error)> Tally(params string[] args)
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
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
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
