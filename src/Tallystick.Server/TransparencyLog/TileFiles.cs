using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Tallystick.Merkle;
using Tallystick.Server.Deltas;
using Tallystick.Server.Storage;
using Tallystick.Tiles;

namespace Tallystick.Server.TransparencyLog;

/// <summary>
/// Full hash tiles, also kept as flat files so that serving one is a single <c>pread</c>: <c>tiles/level-L.tiles</c>
/// in the data directory holds the full tiles of level L in index order, 8 KiB each (the layout Tessera's POSIX
/// driver uses, in one file per level). A tile read from SQLite walks a b-tree and overflow pages: with a log larger
/// than the tile cache (10M entries: 39,066 leaf tiles) random tile reads served 10–13k/s from SQLite and 21–23k/s
/// from the file on this machine.
/// </summary>
/// <remarks>
/// SQLite stays the durable record; the files are derived from it and never fsynced. A background loop appends the
/// full tiles a published checkpoint covers (<see cref="AppendInterval"/>), which also fills the files of a data
/// directory made before them. At start the files are cut back to whole tiles that the latest stored checkpoint
/// covers, and the last <see cref="TailChecked"/> tiles of each are compared with SQLite, so a crash while appending
/// (a torn or zero-filled tail) costs only the tiles after the first bad one, which the loop appends again.
/// <c>tally log verify</c> compares every tile in the files with the tiles rebuilt from the entries. Deleting the
/// directory while the server is stopped is safe: it is rebuilt. Counts are published after the bytes are written,
/// so a reader never sees a tile that is not there. Thread-safe.
/// </remarks>
internal sealed class TileFiles : BackgroundService
{
    /// <summary>The directory under the data directory.</summary>
    public const string DirectoryName = "tiles";

    /// <summary>How often the loop appends newly covered full tiles.</summary>
    public static readonly TimeSpan AppendInterval = TimeSpan.FromSeconds(1);

    /// <summary>Tiles at the end of each file compared with SQLite at start.</summary>
    public const int TailChecked = 4;

    /// <summary>Levels with files (level 7 tiles cover 2^64 leaves: more than a log can hold).</summary>
    public const int LevelsMax = 8;

    /// <summary>Tiles read from SQLite per query while appending.</summary>
    private const int AppendChunk = 64;

    private const int TileBytes = TilePath.FullWidth * Rfc6962.HashSize;

    private readonly Database _database;
    private readonly Func<long> _publishedSize;
    private readonly TimeProvider _time;
    private readonly ILogger<TileFiles> _logger;
    private readonly string _directory;
    private readonly SafeFileHandle?[] _files = new SafeFileHandle?[LevelsMax];
    private readonly long[] _counts = new long[LevelsMax];
    private readonly Lock _open = new();
    private int _shortFileReported;

    public TileFiles(Database database, Sequencer sequencer, TimeProvider time, ILogger<TileFiles> logger)
        : this(database, () => sequencer.Head.CheckpointSize, time, logger)
    {
    }

    /// <summary>Opens (and repairs) the files; <paramref name="publishedSize"/> gives the tree size of the latest
    /// published checkpoint, which bounds what is appended.</summary>
    internal TileFiles(Database database, Func<long> publishedSize, TimeProvider time, ILogger<TileFiles> logger)
    {
        _database = database;
        _publishedSize = publishedSize;
        _time = time;
        _logger = logger;
        _directory = Path.Combine(database.DataDirectory, DirectoryName);
        Directory.CreateDirectory(_directory);
        long stored = StoredCheckpointSize();
        for (int level = 0; level < LevelsMax; level++)
        {
            if (File.Exists(PathOf(level)))
            {
                Repair(level, FullTiles(stored, level));
            }
        }
    }

    /// <summary>The path of level <paramref name="level"/>'s file.</summary>
    public string PathOf(int level) => Path.Combine(_directory, $"level-{level}.tiles");

    /// <summary>Full tiles of level <paramref name="level"/> the files hold.</summary>
    public long Count(int level) => Volatile.Read(ref _counts[level]);

    /// <summary>The full hash tile <paramref name="tile"/> from its file, or null when the file does not hold it
    /// (yet): the caller reads SQLite. The array is the caller's.</summary>
    public byte[]? TryRead(TilePath tile)
    {
        if (tile.IsEntryBundle || tile.IsPartial || tile.Level >= LevelsMax || tile.Index >= Count(tile.Level))
        {
            return null;
        }
        var bytes = new byte[TileBytes];
        int read = RandomAccess.Read(_files[tile.Level]!, bytes, tile.Index * TileBytes);
        if (read != TileBytes)
        {
            // Cut by someone else while the server runs: serve from SQLite (the caller's fallback) and say so once.
            if (Interlocked.Exchange(ref _shortFileReported, 1) == 0)
            {
                _logger.LogWarning("{File} is shorter than the {Count} tiles the server wrote to it: tiles are read " +
                    "from the database instead; restart the server to repair the file", PathOf(tile.Level), Count(tile.Level));
            }
            return null;
        }
        return bytes;
    }

    /// <summary>Appends every full tile the published checkpoint covers that the files lack; returns how many.</summary>
    public int AppendCovered()
    {
        long size = _publishedSize();
        int appended = 0;
        for (int level = 0; level < LevelsMax; level++)
        {
            long full = FullTiles(size, level);
            while (Count(level) < full)
            {
                appended += AppendFromStore(level, Math.Min(full, Count(level) + AppendChunk));
            }
        }
        return appended;
    }

    public override void Dispose()
    {
        base.Dispose();
        lock (_open)
        {
            foreach (var file in _files)
            {
                file?.Dispose();
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(AppendInterval, _time);
        do
        {
            try
            {
                AppendCovered();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or StoreUnavailableException)
            {
                // Tiles are still served from SQLite; the next tick tries again.
                _logger.LogWarning(e, "appending to the tile files in {Directory} failed", _directory);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private static long FullTiles(long size, int level) =>
        LogReader.ItemsAtLevel(size, level) / TilePath.FullWidth;

    private SafeFileHandle Handle(int level)
    {
        lock (_open)
        {
            return _files[level] ??= File.OpenHandle(PathOf(level), FileMode.OpenOrCreate,
                FileAccess.ReadWrite, FileShare.Read);
        }
    }

    // Appends tiles Count(level) .. end - 1 of the level, read from SQLite in one query, then publishes the count.
    private int AppendFromStore(int level, long end)
    {
        long first = Count(level);
        using var connection = _database.Open();
        var query = connection.Prepared(
            "SELECT idx, hashes FROM log_tiles WHERE level = $l AND idx >= $a AND idx < $b ORDER BY idx");
        query.Parameters.AddWithValue("$l", level);
        query.Parameters.AddWithValue("$a", first);
        query.Parameters.AddWithValue("$b", end);
        var buffer = new byte[(end - first) * TileBytes];
        long next = first;
        using (var rows = query.ExecuteReader())
        {
            while (rows.Read())
            {
                var hashes = (byte[])rows[1];
                if (rows.GetInt64(0) != next || hashes.Length != TileBytes)
                {
                    throw new InvalidOperationException(
                        $"log tile {level}/{next} is missing or not full in SQLite: run `tally log verify`");
                }
                hashes.CopyTo(buffer, (next - first) * TileBytes);
                next++;
            }
        }
        if (next != end)
        {
            throw new InvalidOperationException($"log tiles {level}/{next}..{end - 1} are missing: run `tally log verify`");
        }
        RandomAccess.Write(Handle(level), buffer, first * TileBytes);
        Volatile.Write(ref _counts[level], end);
        return (int)(end - first);
    }

    // Whole tiles only, none beyond what the stored checkpoint covers, and the tail equal to SQLite's tiles.
    private void Repair(int level, long covered)
    {
        var file = Handle(level);
        long length = RandomAccess.GetLength(file);
        long tiles = Math.Min(length / TileBytes, covered);
        using (var connection = _database.Open())
        {
            var query = connection.Prepared("SELECT hashes FROM log_tiles WHERE level = $l AND idx = $i");
            var buffer = new byte[TileBytes];
            for (long index = Math.Max(0, tiles - TailChecked); index < tiles; index++)
            {
                query.Parameters.Clear();
                query.Parameters.AddWithValue("$l", level);
                query.Parameters.AddWithValue("$i", index);
                var stored = query.ExecuteScalar() as byte[];
                if (RandomAccess.Read(file, buffer, index * TileBytes) != TileBytes || stored is null ||
                    !stored.AsSpan().SequenceEqual(buffer))
                {
                    _logger.LogWarning("{File}: tile {Index} differs from the log; cut back to {Index} tiles",
                        PathOf(level), index, index);
                    tiles = index;
                    break;
                }
            }
        }
        if (length != tiles * TileBytes)
        {
            RandomAccess.SetLength(file, tiles * TileBytes);
        }
        _counts[level] = tiles;
    }

    private long StoredCheckpointSize()
    {
        using var connection = _database.Open();
        var query = connection.Prepared("SELECT coalesce(max(size), 0) FROM checkpoints");
        return (long)query.ExecuteScalar()!;
    }
}
