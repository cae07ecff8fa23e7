using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Tallystick.Server.Tests;

/// <summary>A stopped server's data directory holding a log of 300+ entries (full level-0 tile, level 1 started)
/// and several checkpoints. Tests copy it before tampering.</summary>
public sealed class StoppedLog : IAsyncLifetime
{
    private readonly RunningServer _server = new();

    public string DataDirectory => _server.DataDirectory;

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        using (var client = _server.Client())
        {
            await Api.EmitDistinctCustomers(client, "fsck", 300);
            await Api.Post(client, "api/v1/balance/delta", Api.Emit("fsck_single", "2"));
        }
        await _server.StopAsync();
    }

    public Task DisposeAsync() => _server.DisposeAsync();
}

// Goal: `tally log verify` passes on a sound log and, after one byte is changed in a log entry, a hash tile or a
// checkpoint root, fails with exit 3 and a message naming the entry/tile/checkpoint with expected and found
// values. Method: build a log through the real server, stop it, copy the data directory, tamper with
// Microsoft.Data.Sqlite, and run the real `tally` binary on the copy.
public sealed class LogVerifyTests(StoppedLog log) : IClassFixture<StoppedLog>, IDisposable
{
    private readonly string _copy = Path.Combine(Path.GetTempPath(), "tally-fsck-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task SoundLog_ExitsZero()
    {
        Copy();
        var (exit, output, error) = await CliTests.Tally("log", "verify", "--data", _copy);
        Assert.True(exit == 0, error);
        Assert.StartsWith("tally log verify: OK", output, StringComparison.Ordinal);

        var (jsonExit, json, _) = await CliTests.Tally("log", "verify", "--data", _copy, "--json");
        Assert.Equal(0, jsonExit);
        using var report = JsonDocument.Parse(json);
        var root = report.RootElement;
        Assert.True(root.GetProperty("ok").GetBoolean());
        Assert.Equal("test.tallystick/log", root.GetProperty("origin").GetString());
        Assert.Equal(301, root.GetProperty("entries").GetInt64());
        Assert.Equal(301, root.GetProperty("treeSize").GetInt64());
        Assert.Equal(0, root.GetProperty("pendingEntries").GetInt64());
        Assert.True(root.GetProperty("checkpoints").GetInt64() >= 2);
        Assert.Equal(3, root.GetProperty("tiles").GetInt64()); // 0/000, 0/001.p/45, 1/000.p/1
        Assert.Empty(root.GetProperty("problems").EnumerateArray());
    }

    [Fact]
    public async Task TamperedEntry_FailsNamingTheEntry()
    {
        Copy();
        using (var db = Open())
        {
            var entry = (byte[])Scalar(db, "SELECT entry FROM log_entries WHERE idx = 5");
            entry[20] ^= 0x01;
            Execute(db, "UPDATE log_entries SET entry = $v WHERE idx = 5", entry);
        }
        var (exit, _, error) = await CliTests.Tally("log", "verify", "--data", _copy);
        Assert.Equal(3, exit);
        Assert.Contains("hash tile tile/0/000: leaf hash of entry 5 is 0x", error, StringComparison.Ordinal);
        Assert.Contains("rebuilt from entries 0x", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TamperedTile_FailsWithExpectedAndFoundHashes()
    {
        Copy();
        byte[] original;
        byte[] tampered;
        using (var db = Open())
        {
            var hashes = (byte[])Scalar(db, "SELECT hashes FROM log_tiles WHERE level = 0 AND idx = 0");
            original = hashes.AsSpan(3 * 32, 32).ToArray();
            hashes[(3 * 32) + 7] ^= 0x80;
            tampered = hashes.AsSpan(3 * 32, 32).ToArray();
            Execute(db, "UPDATE log_tiles SET hashes = $v WHERE level = 0 AND idx = 0", hashes);
        }
        var (exit, _, error) = await CliTests.Tally("log", "verify", "--data", _copy);
        Assert.Equal(3, exit);
        Assert.Contains($"hash tile tile/0/000: leaf hash of entry 3 is {Hex(tampered)}, rebuilt from entries {Hex(original)}",
            error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TamperedStoredSubtree_FailsNamingIt()
    {
        // The full tile carries its 30 interior hashes (heights 4-7); the partial ones carry none.
        Copy();
        using (var db = Open())
        {
            Assert.Equal(30 * 32, ((byte[])Scalar(db, "SELECT subtrees FROM log_tiles WHERE level = 0 AND idx = 0")).Length);
            Assert.Equal(2L, Scalar(db, "SELECT count(*) FROM log_tiles WHERE subtrees IS NULL"));
            var subtrees = (byte[])Scalar(db, "SELECT subtrees FROM log_tiles WHERE level = 0 AND idx = 0");
            subtrees[(17 * 32) + 1] ^= 0x04; // the second hash at height 5
            Execute(db, "UPDATE log_tiles SET subtrees = $v WHERE level = 0 AND idx = 0", subtrees);
        }
        var (exit, _, error) = await CliTests.Tally("log", "verify", "--data", _copy);
        Assert.Equal(3, exit);
        Assert.Contains("hash tile tile/0/000: stored subtree hash 17 is 0x", error, StringComparison.Ordinal);
        Assert.Contains(", rebuilt 0x", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TamperedCheckpointRoot_FailsNamingTheCheckpoint()
    {
        Copy();
        long size;
        byte[] original;
        byte[] tampered;
        using (var db = Open())
        {
            size = (long)Scalar(db, "SELECT max(size) FROM checkpoints");
            original = (byte[])Scalar(db, $"SELECT root FROM checkpoints WHERE size = {size}");
            tampered = (byte[])original.Clone();
            tampered[0] ^= 0x01;
            Execute(db, $"UPDATE checkpoints SET root = $v WHERE size = {size}", tampered);
        }
        var (exit, _, error) = await CliTests.Tally("log", "verify", "--data", _copy);
        Assert.Equal(3, exit);
        Assert.Contains($"checkpoint {size}: stored root {Hex(tampered)}, but entries 0..{size - 1} give {Hex(original)}",
            error, StringComparison.Ordinal);
        Assert.Contains($"checkpoint {size}: the signed note says size {size}, root {Hex(original)}", error,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForgedCheckpointNote_FailsSignatureCheck()
    {
        Copy();
        using (var db = Open())
        {
            var note = (string)Scalar(db, "SELECT note FROM checkpoints WHERE size = (SELECT max(size) FROM checkpoints)");
            var forged = note.Replace("\n301\n", "\n300\n", StringComparison.Ordinal);
            Assert.NotEqual(note, forged);
            Execute(db, "UPDATE checkpoints SET note = $v WHERE size = 301", forged);
        }
        var (exit, _, error) = await CliTests.Tally("log", "verify", "--data", _copy);
        Assert.Equal(3, exit);
        Assert.Contains("checkpoint 301: the note does not verify with the log key", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoDatabase_IsAUsageError()
    {
        var (exit, _, error) = await CliTests.Tally("log", "verify", "--data", _copy);
        Assert.Equal(2, exit);
        Assert.Contains("no Tallystick database", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_copy), "verify must not create a data directory");
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_copy, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private void Copy()
    {
        Directory.CreateDirectory(_copy);
        foreach (var file in Directory.GetFiles(log.DataDirectory))
        {
            if (Path.GetFileName(file) != "LOCK")
            {
                File.Copy(file, Path.Combine(_copy, Path.GetFileName(file)));
            }
        }
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection($"Data Source={Path.Combine(_copy, "tallystick.db")};Pooling=False");
        connection.Open();
        return connection;
    }

    private static object Scalar(SqliteConnection db, string sql)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar()!;
    }

    private static void Execute(SqliteConnection db, string sql, object value)
    {
        using var command = db.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$v", value);
        Assert.Equal(1, command.ExecuteNonQuery());
    }

    private static string Hex(byte[] hash) => "0x" + Convert.ToHexStringLower(hash);
}
