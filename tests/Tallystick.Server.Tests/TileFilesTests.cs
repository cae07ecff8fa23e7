using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Tallystick.Server.Storage;
using Tallystick.Server.TransparencyLog;
using Tallystick.Tiles;

namespace Tallystick.Server.Tests;

// Goal: the flat tile files (tiles/level-L.tiles) only ever serve the tiles SQLite holds: filled in the background
// from what published checkpoints cover, served byte for byte like SQLite's, cut back at start after a crash left a
// torn, extra or damaged tail, and checked by `tally log verify`.
// Method: a live server with 600 entries (two full leaf tiles) for the background appender and the served bytes; a
// stopped 301-entry log (one full leaf tile) copied per test, with TileFiles opened on the copy and the file tampered
// with in each way a crash or a disk can leave it.
public sealed class TileFilesTests(StoppedLog log) : IClassFixture<StoppedLog>, IDisposable
{
    private const int TileBytes = 8192;

    private readonly string _copy = Path.Combine(Path.GetTempPath(), "tally-tilefiles-" + Guid.NewGuid().ToString("N"));
    private readonly List<IDisposable> _opened = [];

    [Fact]
    public async Task LiveServer_AppendsCoveredTiles_AndServesTheSameBytesAsTheDatabase()
    {
        var server = new RunningServer();
        await server.InitializeAsync();
        try
        {
            await AppendsAndServes(server);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task AppendsAndServes(RunningServer server)
    {
        using (var client = server.Client())
        {
            await Api.EmitDistinctCustomers(client, "files", 600);
        }
        var files = server.Services.GetRequiredService<TileFiles>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (files.Count(0) < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.Equal(2, files.Count(0));
        Assert.Equal(0, files.Count(1)); // 600 leaves: level 1 has 2 hashes, no full tile

        var onDisk = await File.ReadAllBytesAsync(files.PathOf(0));
        Assert.Equal(2 * TileBytes, onDisk.Length);
        using var http = server.Client(apiKey: null);
        for (var index = 0; index < 2; index++)
        {
            var stored = StoredTile(server.DataDirectory, 0, index);
            Assert.Equal(stored, onDisk[(index * TileBytes)..((index + 1) * TileBytes)]);
            Assert.Equal(stored, files.TryRead(TilePath.HashTile(0, index, 256)));
            Assert.Equal(stored, await http.GetByteArrayAsync($"log/tile/0/00{index}"));
        }
        // Partial tiles, entry bundles and tiles beyond the files come from the database.
        Assert.Null(files.TryRead(TilePath.HashTile(0, 2, 88)));
        Assert.Null(files.TryRead(TilePath.HashTile(0, 2, 256)));
        Assert.Null(files.TryRead(TilePath.EntryBundle(0, 256)));
    }

    [Fact]
    public void Opening_AppendsOnlyWhatTheCheckpointCovers()
    {
        Copy();
        using var files = Open(publishedSize: 255);

        Assert.Equal(0, files.AppendCovered()); // 255 leaves: no full tile yet
        Assert.False(File.Exists(files.PathOf(0)) && new FileInfo(files.PathOf(0)).Length > 0);
        using var grown = Open(publishedSize: 301);
        Assert.Equal(1, grown.AppendCovered());
        Assert.Equal(StoredTile(_copy, 0, 0), File.ReadAllBytes(grown.PathOf(0)));
        Assert.Equal(0, grown.AppendCovered());
    }

    [Theory]
    [InlineData("torn")]     // a crash in the middle of an append
    [InlineData("extra")]    // a tile the database does not cover (a restored backup, or a lost commit)
    [InlineData("zeros")]    // size updated, data never written
    [InlineData("damaged")]  // one bit of the last tile
    public void Restart_CutsABadTail_AndAppendsItAgain(string damage)
    {
        Copy();
        string path;
        using (var files = Open(publishedSize: 301))
        {
            files.AppendCovered();
            path = files.PathOf(0);
        }
        var good = File.ReadAllBytes(path);
        var bad = damage switch
        {
            "torn" => [.. good, .. new byte[100]],
            "extra" => [.. good, .. good],
            "zeros" => new byte[TileBytes],
            _ => Flip(good, 1234),
        };
        File.WriteAllBytes(path, bad);

        using var reopened = Open(publishedSize: 301);

        long kept = damage is "torn" or "extra" ? 1 : 0;
        Assert.Equal(kept, reopened.Count(0));
        Assert.Equal(kept * TileBytes, new FileInfo(path).Length);
        reopened.AppendCovered();
        Assert.Equal(good, File.ReadAllBytes(path));
    }

    [Fact]
    public void FileCutWhileRunning_ReadsFallBackToTheDatabase()
    {
        Copy();
        using var files = Open(publishedSize: 301);
        files.AppendCovered();
        var tile = TilePath.HashTile(0, 0, 256);
        Assert.NotNull(files.TryRead(tile));

        using (var cut = File.Open(files.PathOf(0), FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            cut.SetLength(100);
        }

        Assert.Null(files.TryRead(tile)); // the reader then reads SQLite (LogReader.Read)
    }

    [Fact]
    public async Task LogVerify_ReportsADamagedTileFile()
    {
        Copy();
        string path;
        using (var files = Open(publishedSize: 301))
        {
            files.AppendCovered();
            path = files.PathOf(0);
        }
        var (okExit, _, okError) = await CliTests.Tally("log", "verify", "--data", _copy);
        Assert.True(okExit == 0, okError);

        File.WriteAllBytes(path, Flip(File.ReadAllBytes(path), 77));
        var (exit, _, error) = await CliTests.Tally("log", "verify", "--data", _copy);

        Assert.Equal(3, exit);
        Assert.Contains("tile file tiles/level-0.tiles: tile/0/000 differs from the tile rebuilt from the entries", error,
            StringComparison.Ordinal);
    }

    public void Dispose()
    {
        foreach (var opened in _opened)
        {
            opened.Dispose();
        }
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_copy))
        {
            Directory.Delete(_copy, recursive: true);
        }
    }

    private TileFiles Open(long publishedSize)
    {
        var database = new Database(_copy);
        _opened.Add(database);
        return new TileFiles(database, () => publishedSize, TimeProvider.System, NullLogger<TileFiles>.Instance);
    }

    private static byte[] Flip(byte[] bytes, int bit)
    {
        var copy = (byte[])bytes.Clone();
        copy[bit / 8] ^= (byte)(1 << (bit % 8));
        return copy;
    }

    private static byte[] StoredTile(string dataDirectory, int level, long index)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, Database.FileName)};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var query = connection.CreateCommand();
        query.CommandText = "SELECT hashes FROM log_tiles WHERE level = $l AND idx = $i";
        query.Parameters.AddWithValue("$l", level);
        query.Parameters.AddWithValue("$i", index);
        return (byte[])query.ExecuteScalar()!;
    }

    private void Copy()
    {
        Directory.CreateDirectory(_copy);
        foreach (var file in Directory.GetFiles(log.DataDirectory))
        {
            File.Copy(file, Path.Combine(_copy, Path.GetFileName(file)));
        }
    }
}
