using System.Buffers.Binary;
using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Tallystick.Merkle;
using Tallystick.Server.Deltas;
using Tallystick.Server.Storage;
using Tallystick.Tiles;
using Tallystick.Wire;

namespace Tallystick.Server.TransparencyLog;

/// <summary>
/// Reads the log for the public read API: hash tiles, entry bundles, node hashes and checkpoints, always bounded
/// by a tree size the caller took from a published checkpoint, so nothing beyond the signed tree is ever served.
/// Reads go through a small pool of read-only connections with prepared statements (WAL readers never block the
/// sequencer). A tile's bytes never change once the tree covers it (a partial tile <c>.p/W</c> is a prefix that
/// later appends do not touch), so tiles are kept in a bounded in-memory cache. Thread-safe.
/// </summary>
internal sealed class TileReader : IDisposable
{
    /// <summary>Tiles and bundles cached in memory (at most ≈ 8–11 KiB each, so ≈ 45 MiB at most); when the cache
    /// is full it is emptied and refills on demand.</summary>
    public const int CachedTilesMax = 4096;

    /// <summary>Idle read connections kept open for reuse; under more concurrency extra connections are opened and
    /// closed after use.</summary>
    public const int IdleConnectionsMax = 16;

    private const int HashSize = Rfc6962.HashSize;

    private readonly string _connectionString;
    private readonly ConcurrentQueue<Reader> _idle = new();
    private readonly ConcurrentDictionary<TilePath, byte[]> _cache = new();
    private int _idleCount;

    public TileReader(Database database)
    {
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = database.FilePath,
            Mode = SqliteOpenMode.ReadOnly,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>How many items (hashes, or entries at level 0) level <paramref name="level"/> holds in a tree of
    /// <paramref name="size"/> leaves.</summary>
    public static long ItemsAtLevel(long size, int level) =>
        level * TilePath.TileHeight >= 63 ? 0 : size >> (level * TilePath.TileHeight);

    /// <summary>True when the tree of <paramref name="size"/> leaves contains every hash (or entry) of
    /// <paramref name="tile"/>: a full tile once the level is past its end, a partial <c>.p/W</c> tile once the
    /// level holds its first W items (that tile existed for some tree size up to <paramref name="size"/>).</summary>
    public static bool Covers(long size, TilePath tile)
    {
        long items = ItemsAtLevel(size, tile.Level);
        return tile.Index <= items / TilePath.FullWidth && (tile.Index * TilePath.FullWidth) + tile.Width <= items;
    }

    /// <summary>The tile's bytes (hashes, or length-prefixed entries), or null when the tree of
    /// <paramref name="size"/> leaves does not contain it.</summary>
    public byte[]? Read(TilePath tile, long size)
    {
        if (!Covers(size, tile))
        {
            return null;
        }
        if (_cache.TryGetValue(tile, out var cached))
        {
            return cached;
        }
        var bytes = tile.IsEntryBundle ? ReadBundle(tile) : ReadHashes(tile.Level, tile.Index, tile.Width);
        if (_cache.Count >= CachedTilesMax)
        {
            _cache.Clear();
        }
        _cache.TryAdd(tile, bytes);
        return bytes;
    }

    /// <summary>The hash of a perfect subtree that lies inside the tree of <paramref name="size"/> leaves.</summary>
    public byte[] NodeHash(NodeId node, long size)
    {
        int level = node.Level / TilePath.TileHeight;
        int width = 1 << (node.Level % TilePath.TileHeight);
        long first = node.Index * width;
        long tileIndex = first / TilePath.FullWidth;
        int offset = (int)(first % TilePath.FullWidth);
        long items = ItemsAtLevel(size, level);
        // Read the whole tile when it is full in this tree (cacheable), else just the prefix the node needs.
        var tile = (tileIndex + 1) * TilePath.FullWidth <= items
            ? TilePath.HashTile(level, tileIndex)
            : TilePath.HashTile(level, tileIndex, offset + width);
        var hashes = Read(tile, size)
            ?? throw new InvalidOperationException($"node {node} is not inside the tree of size {size}");
        return TileBuilder.PerfectSubtreeRoot(hashes.AsSpan(offset * HashSize, width * HashSize));
    }

    /// <summary>The RFC 6962 root of the first <paramref name="size"/> leaves, from stored tiles.</summary>
    public byte[] Root(long size)
    {
        var hashes = new List<byte[]>();
        long start = 0;
        for (int height = 62; height >= 0; height--)
        {
            if ((size & (1L << height)) != 0)
            {
                hashes.Add(NodeHash(new NodeId(height, start >> height), size));
                start += 1L << height;
            }
        }
        return CompactRange.FromHashes(size, hashes).Root();
    }

    /// <summary>The signed checkpoint of exactly <paramref name="size"/> leaves, or null if none was signed.</summary>
    public CheckpointInfo? Checkpoint(long size) => Use(reader =>
    {
        reader.CheckpointSize.Value = size;
        using var rows = reader.Checkpoint.ExecuteReader();
        return rows.Read() ? DeltaRows.ReadCheckpoint(rows) : null;
    });

    public void Dispose()
    {
        while (_idle.TryDequeue(out var reader))
        {
            reader.Dispose();
        }
    }

    private byte[] ReadHashes(int level, long index, int width) => Use(reader =>
    {
        reader.TileLevel.Value = level;
        reader.TileIndex.Value = index;
        var stored = reader.Tile.ExecuteScalar() as byte[];
        if (stored is null || stored.Length < width * HashSize)
        {
            throw new InvalidOperationException(
                $"log tile {level}/{index} holds {(stored?.Length ?? 0) / HashSize} hashes, the published " +
                $"checkpoint needs {width}: the log is corrupt; run `tally log verify`");
        }
        return stored.Length == width * HashSize ? stored : stored.AsSpan(0, width * HashSize).ToArray();
    });

    private byte[] ReadBundle(TilePath tile) => Use(reader =>
    {
        long first = tile.Index * TilePath.FullWidth;
        reader.EntriesFrom.Value = first;
        reader.EntriesTo.Value = first + tile.Width;
        var bundle = new MemoryStream(tile.Width * 48);
        Span<byte> length = stackalloc byte[2];
        long expected = first;
        using (var rows = reader.Entries.ExecuteReader())
        {
            while (rows.Read())
            {
                var entry = (byte[])rows[1];
                if (rows.GetInt64(0) != expected || entry.Length > ushort.MaxValue)
                {
                    throw new InvalidOperationException(
                        $"log entry {expected} is missing or too long for an entry bundle: run `tally log verify`");
                }
                BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)entry.Length);
                bundle.Write(length);
                bundle.Write(entry);
                expected++;
            }
        }
        if (expected != first + tile.Width)
        {
            throw new InvalidOperationException(
                $"log entries {expected}..{first + tile.Width - 1} are missing: run `tally log verify`");
        }
        return bundle.ToArray();
    });

    private T Use<T>(Func<Reader, T> read)
    {
        if (_idle.TryDequeue(out var reader))
        {
            Interlocked.Decrement(ref _idleCount);
        }
        else
        {
            reader = new Reader(_connectionString);
        }
        bool healthy = false;
        try
        {
            var result = read(reader);
            healthy = true;
            return result;
        }
        finally
        {
            if (healthy && Interlocked.Increment(ref _idleCount) <= IdleConnectionsMax)
            {
                _idle.Enqueue(reader);
            }
            else
            {
                if (healthy)
                {
                    Interlocked.Decrement(ref _idleCount);
                }
                reader.Dispose();
            }
        }
    }

    /// <summary>One read-only connection with its prepared statements; used by one thread at a time.</summary>
    private sealed class Reader : IDisposable
    {
        private readonly SqliteConnection _connection;

        public Reader(string connectionString)
        {
            _connection = new SqliteConnection(connectionString);
            _connection.Open();
            Database.Execute(_connection, "PRAGMA busy_timeout = 30000; PRAGMA cache_size = -8192;");
            Tile = Prepare("SELECT hashes FROM log_tiles WHERE level = $l AND idx = $i");
            TileLevel = Tile.Parameters.Add("$l", SqliteType.Integer);
            TileIndex = Tile.Parameters.Add("$i", SqliteType.Integer);
            Entries = Prepare("SELECT idx, entry FROM log_entries WHERE idx >= $a AND idx < $b ORDER BY idx");
            EntriesFrom = Entries.Parameters.Add("$a", SqliteType.Integer);
            EntriesTo = Entries.Parameters.Add("$b", SqliteType.Integer);
            Checkpoint = Prepare("SELECT size, root, note, created_at FROM checkpoints WHERE size = $s");
            CheckpointSize = Checkpoint.Parameters.Add("$s", SqliteType.Integer);
        }

        public SqliteCommand Tile { get; }

        public SqliteParameter TileLevel { get; }

        public SqliteParameter TileIndex { get; }

        public SqliteCommand Entries { get; }

        public SqliteParameter EntriesFrom { get; }

        public SqliteParameter EntriesTo { get; }

        public SqliteCommand Checkpoint { get; }

        public SqliteParameter CheckpointSize { get; }

        public void Dispose()
        {
            Tile.Dispose();
            Entries.Dispose();
            Checkpoint.Dispose();
            _connection.Dispose();
        }

        private SqliteCommand Prepare(string sql)
        {
            var command = _connection.CreateCommand();
            command.CommandText = sql;
            return command;
        }
    }
}
