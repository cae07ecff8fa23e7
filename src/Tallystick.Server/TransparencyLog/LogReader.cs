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
/// The one reader of the stored transparency log, shared by the <c>/log/</c> API, proof bundles and public verify:
/// hash tiles and entry bundles (C2SP tlog-tiles layout, as <see cref="TileStore"/> writes them), node hashes,
/// inclusion and consistency proofs, roots, entries and signed checkpoints. Every read is bounded by a tree size the
/// caller took from a published checkpoint (<see cref="LogHead"/>), so nothing beyond the signed tree is served.
/// </summary>
/// <remarks>
/// Why no read transaction is needed: what a published checkpoint covers never changes. Entries are append-only, a
/// full tile is written once, and a partial tile <c>.p/W</c> is a prefix that later appends do not touch; the
/// sequencer commits the tiles a checkpoint covers before it publishes that checkpoint. So tiles are read through the
/// shared pool of read connections with statements kept prepared (WAL readers never block the sequencer) and kept in
/// a bounded cache (<see cref="TileCacheBytesMax"/>, CLOCK eviction, lock-free hits) with the interior hashes a full
/// tile stores (<see cref="TileSubtrees"/>: a proof through it hashes at most 11 times) or, for other tiles, the
/// perfect-subtree hashes computed once a proof needed them. Full hash tiles not in the cache are served from the
/// flat tile files (<see cref="TileFiles"/>) when those hold them. Thread-safe.
/// </remarks>
internal sealed class LogReader
{
    /// <summary>Bytes of tiles and bundles kept in memory: a hash tile is 8 KiB, ≈ 16 KiB once a proof computed its
    /// subtree hashes, so 4,000–8,000 tiles (every tile above level 0 of a log of a billion entries, and the hottest
    /// leaf tiles; all the leaf tiles of a log of a million entries).</summary>
    public const long TileCacheBytesMax = 64L << 20;

    private const int HashSize = Rfc6962.HashSize;

    private readonly Database _database;
    private readonly TileCache _cache;
    private readonly TileFiles? _files;

    public LogReader(Database database, TileFiles files)
        : this(database, TileCacheBytesMax, files)
    {
    }

    /// <summary>A reader whose cache holds at most <paramref name="cacheBytesMax"/> bytes (tests use a tiny one to
    /// make every read evict), serving full hash tiles from <paramref name="files"/> when they hold them.</summary>
    internal LogReader(Database database, long cacheBytesMax, TileFiles? files = null)
    {
        _database = database;
        _cache = new TileCache(cacheBytesMax);
        _files = files;
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

    /// <summary>The tile's bytes as tlog-tiles serves them (hashes, or length-prefixed entries), or null when the
    /// tree of <paramref name="size"/> leaves does not contain it. The array is shared: never modify it.</summary>
    /// <remarks>From the cache, else from the tile files (one <c>pread</c>, not cached: a log larger than the cache
    /// would only churn it), else from SQLite (cached).</remarks>
    public byte[]? Read(TilePath tile, long size) =>
        !Covers(size, tile) ? null : _cache.TryGet(tile)?.Bytes ?? _files?.TryRead(tile) ?? Load(tile).Bytes;

    /// <summary>The hash of the perfect subtree <paramref name="node"/>, which must lie inside the tree of
    /// <paramref name="size"/> leaves (<paramref name="size"/> at most the published checkpoint's).</summary>
    public byte[] NodeHash(NodeId node, long size)
    {
        if (node.Level is < 0 or > 62 || node.Index < 0 || ((node.Index + 1) << node.Level) > size)
        {
            throw new ArgumentOutOfRangeException(nameof(node), node, $"not a complete subtree of a tree of size {size}");
        }
        int level = node.Level / TilePath.TileHeight;
        int height = node.Level % TilePath.TileHeight;
        long first = node.Index << height;
        long tileIndex = first / TilePath.FullWidth;
        // The whole tile as this tree has it: full (cacheable for good), or the partial prefix of this size.
        long width = Math.Min(TilePath.FullWidth, ItemsAtLevel(size, level) - (tileIndex * TilePath.FullWidth));
        var tile = Load(TilePath.HashTile(level, tileIndex, (int)width));
        return tile.Subtree(height, (int)(first % TilePath.FullWidth) >> height).ToArray();
    }

    /// <summary>The RFC 9162 inclusion proof of leaf <paramref name="index"/> in the tree of <paramref name="size"/>
    /// leaves. Requires <c>0 &lt;= index &lt; size</c> and <paramref name="size"/> at most the published
    /// checkpoint's.</summary>
    public byte[][] InclusionProof(long index, long size) => Resolve(MerkleProofNodes.Inclusion(index, size), size);

    /// <summary>The RFC 9162 consistency proof from the tree of <paramref name="older"/> leaves to the tree of
    /// <paramref name="newer"/> leaves (empty when <paramref name="older"/> is 0 or equals <paramref name="newer"/>).
    /// Requires <c>older &lt;= newer</c>, <paramref name="newer"/> at most the published checkpoint's.</summary>
    public byte[][] ConsistencyProof(long older, long newer) =>
        older == 0 || older == newer ? [] : Resolve(MerkleProofNodes.Consistency(older, newer), newer);

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

    /// <summary>The log entry at <paramref name="index"/>, or null when the log is not that long.</summary>
    public byte[]? Entry(long index) => Use(connection =>
    {
        var entry = connection.Prepared("SELECT entry FROM log_entries WHERE idx = $i");
        entry.Parameters.AddWithValue("$i", index);
        return entry.ExecuteScalar() as byte[];
    });

    /// <summary>The signed checkpoint of exactly <paramref name="size"/> leaves, or null if none was signed.</summary>
    public CheckpointInfo? Checkpoint(long size) => Use(connection =>
    {
        var checkpoint = connection.Prepared("SELECT size, root, note, created_at FROM checkpoints WHERE size = $s");
        checkpoint.Parameters.AddWithValue("$s", size);
        using var rows = checkpoint.ExecuteReader();
        return rows.Read() ? DeltaRows.ReadCheckpoint(rows) : null;
    });

    private byte[][] Resolve(ProofNodes nodes, long size)
    {
        var hashes = new byte[nodes.Ids.Count][];
        for (int i = 0; i < hashes.Length; i++)
        {
            hashes[i] = NodeHash(nodes.Ids[i], size);
        }
        return nodes.Rehash(hashes);
    }

    private CachedTile Load(TilePath tile)
    {
        if (_cache.TryGet(tile) is { } cached)
        {
            return cached;
        }
        var (bytes, subtrees) = tile.IsEntryBundle ? (ReadBundle(tile), null) : ReadHashes(tile);
        return _cache.Add(tile, bytes, subtrees);
    }

    private (byte[] Hashes, byte[]? Subtrees) ReadHashes(TilePath tile) => Use(connection =>
    {
        var hashes = connection.Prepared("SELECT hashes, subtrees FROM log_tiles WHERE level = $l AND idx = $i");
        hashes.Parameters.AddWithValue("$l", tile.Level);
        hashes.Parameters.AddWithValue("$i", tile.Index);
        var (stored, subtrees) = TileSubtrees.ReadRow(hashes);
        int length = tile.Width * HashSize;
        bool badSubtrees = subtrees is not null &&
            (subtrees.Length != TileSubtrees.Size || stored?.Length != TilePath.FullWidth * HashSize);
        if (stored is null || stored.Length < length || (!tile.IsPartial && stored.Length != length) || badSubtrees)
        {
            throw new InvalidOperationException(
                $"log tile {tile.Level}/{tile.Index} holds {(stored?.Length ?? 0) / HashSize} hashes and " +
                $"{(subtrees?.Length ?? 0) / HashSize} subtree hashes, the published checkpoint needs {tile.Width}: " +
                "the log is corrupt; run `tally log verify`");
        }
        // A partial view (.p/W) of a tile that is full by now uses only its first W hashes, so not its subtrees.
        return stored.Length == length
            ? (stored, tile.IsPartial ? null : subtrees)
            : (stored.AsSpan(0, length).ToArray(), null);
    });

    private byte[] ReadBundle(TilePath tile) => Use(connection =>
    {
        long first = tile.Index * TilePath.FullWidth;
        var entries = connection.Prepared("SELECT idx, entry FROM log_entries WHERE idx >= $a AND idx < $b ORDER BY idx");
        entries.Parameters.AddWithValue("$a", first);
        entries.Parameters.AddWithValue("$b", first + tile.Width);
        var bundle = new MemoryStream(tile.Width * 48);
        Span<byte> length = stackalloc byte[2];
        long expected = first;
        using (var rows = entries.ExecuteReader())
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

    /// <summary>Runs <paramref name="read"/> on a pooled read connection (<see cref="Database.Open"/>), whose
    /// prepared statements stay prepared between requests.</summary>
    private T Use<T>(Func<SqliteConnection, T> read)
    {
        using var connection = _database.Open();
        return read(connection);
    }

    /// <summary>
    /// A tile's stored bytes and, for a hash tile, the hashes of the perfect subtrees inside it (heights 1–7; height
    /// 0 is the tile's own hashes): from the stored interior hashes (heights 4–7) plus at most 7 hashes of leaves
    /// when the tile has them, else all computed the first time a proof needs one. Serving tiles never pays for them.
    /// </summary>
    private sealed class CachedTile(TilePath path, byte[] bytes, byte[]? stored, TileCache cache)
    {
        public TilePath Path { get; } = path;

        private byte[]? _subtrees;

        public byte[] Bytes { get; } = bytes;

        /// <summary>Bytes held: the tile's, its stored subtree hashes, and the computed ones once computed. Read
        /// under the cache's lock.</summary>
        public long Cost => Bytes.Length + (stored?.Length ?? 0) + (_subtrees?.Length ?? 0);

        /// <summary>Keeps <paramref name="subtrees"/> unless some were kept already; returns the kept ones. Called
        /// under the cache's lock, so <see cref="Cost"/> changes where the cache counts it.</summary>
        public byte[] KeepSubtrees(byte[] subtrees) => _subtrees ??= subtrees;

        /// <summary>The hash of the subtree at <paramref name="height"/> (0–7) and <paramref name="index"/> within
        /// the tile; it must be complete in this tile's width.</summary>
        public ReadOnlySpan<byte> Subtree(int height, int index)
        {
            if (height == 0)
            {
                return Bytes.AsSpan(index * HashSize, HashSize);
            }
            if (stored is not null)
            {
                return height >= TileSubtrees.FirstHeight
                    ? TileSubtrees.Get(stored, height, index)
                    : MerkleTree.RootFromLeafHashes(Leaves(index << height, 1 << height));
            }
            // Two threads may both compute them; they compute the same bytes and the first one kept wins.
            var subtrees = Volatile.Read(ref _subtrees) ?? cache.Attach(this, ComputeSubtrees());
            int offset = 0;
            int width = Bytes.Length / HashSize;
            for (int h = 1; h < height; h++)
            {
                offset += width >> h;
            }
            return subtrees.AsSpan((offset + index) * HashSize, HashSize);
        }

        private List<byte[]> Leaves(int first, int count)
        {
            var leaves = new List<byte[]>(count);
            for (int i = first; i < first + count; i++)
            {
                leaves.Add(Bytes.AsSpan(i * HashSize, HashSize).ToArray());
            }
            return leaves;
        }

        // Level h (1..7) holds width >> h hashes, levels concatenated from h = 1: each is the parent of two
        // hashes one level down.
        private byte[] ComputeSubtrees()
        {
            int width = Bytes.Length / HashSize;
            int total = 0;
            for (int h = 1; h < TilePath.TileHeight; h++)
            {
                total += width >> h;
            }
            var subtrees = new byte[total * HashSize];
            ReadOnlySpan<byte> below = Bytes;
            int offset = 0;
            for (int h = 1; h < TilePath.TileHeight && (width >> h) > 0; h++)
            {
                int count = width >> h;
                var level = subtrees.AsSpan(offset * HashSize, count * HashSize);
                for (int i = 0; i < count; i++)
                {
                    Rfc6962.HashChildren(below.Slice(2 * i * HashSize, HashSize),
                        below.Slice(((2 * i) + 1) * HashSize, HashSize), level.Slice(i * HashSize, HashSize));
                }
                below = level;
                offset += count;
            }
            return subtrees;
        }
    }

    /// <summary>
    /// A map from tile to its bytes, bounded by their total size in bytes (subtree hashes included once computed),
    /// evicting by CLOCK (second chance): a hit only sets the entry's referenced bit, without a lock, so concurrent
    /// readers of cached tiles never wait for each other; inserting and evicting take one lock.
    /// </summary>
    private sealed class TileCache(long bytesMax)
    {
        private readonly ConcurrentDictionary<TilePath, Entry> _entries = new();
        private readonly Queue<TilePath> _clock = new();
        private readonly Lock _lock = new();
        private long _bytes;

        public CachedTile? TryGet(TilePath path)
        {
            if (!_entries.TryGetValue(path, out var entry))
            {
                return null;
            }
            entry.Referenced = true;
            return entry.Tile;
        }

        public CachedTile Add(TilePath path, byte[] bytes, byte[]? subtrees)
        {
            var entry = new Entry(new CachedTile(path, bytes, subtrees, this));
            if (!_entries.TryAdd(path, entry))
            {
                return _entries.TryGetValue(path, out var existing) ? existing.Tile : entry.Tile;
            }
            lock (_lock)
            {
                _clock.Enqueue(path);
                _bytes += entry.Tile.Cost;
                Evict();
            }
            return entry.Tile;
        }

        /// <summary>Keeps a tile's computed subtree hashes (first computation wins) and counts them, whether or not
        /// the tile is still cached (an evicted one is still in use by its readers; counting it too briefly overstates
        /// the size, never understates it for long: its <see cref="CachedTile.Cost"/> is subtracted when it leaves).
        /// </summary>
        public byte[] Attach(CachedTile tile, byte[] subtrees)
        {
            lock (_lock)
            {
                long before = tile.Cost;
                var kept = tile.KeepSubtrees(subtrees);
                if (_entries.TryGetValue(tile.Path, out var entry) && ReferenceEquals(entry.Tile, tile))
                {
                    _bytes += tile.Cost - before;
                    Evict();
                }
                return kept;
            }
        }

        // Entries referenced since the hand last passed get a second chance; one full turn clears every bit, so
        // this ends.
        private void Evict()
        {
            while (_bytes > bytesMax && _clock.TryDequeue(out var path))
            {
                var entry = _entries[path];
                if (entry.Referenced)
                {
                    entry.Referenced = false;
                    _clock.Enqueue(path);
                    continue;
                }
                _entries.TryRemove(path, out _);
                _bytes -= entry.Tile.Cost;
            }
        }

        private sealed class Entry(CachedTile tile)
        {
            public CachedTile Tile { get; } = tile;

            public volatile bool Referenced;
        }
    }
}
