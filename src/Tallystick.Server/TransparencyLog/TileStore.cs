using Microsoft.Data.Sqlite;
using Tallystick.Merkle;

namespace Tallystick.Server.TransparencyLog;

/// <summary>
/// The log's hash tiles in the C2SP tlog-tiles layout: the tile at level L, index N holds up to 256 node hashes at
/// tree height 8L, indices [256N, 256N+256). The rightmost tile of each level is kept in memory and written back
/// (upserted) in the same transaction as the checkpoint that covers it, so stored tiles always match the latest
/// stored checkpoint.
/// </summary>
internal sealed class TileStore
{
    public const int TileWidth = 256;
    private const int TileHeight = 8;

    private readonly List<List<byte[]>> _rightTiles = [];
    private readonly HashSet<(int Level, long Index)> _dirty = [];

    private TileStore(long size) => Size = size;

    public long Size { get; private set; }

    public static TileStore Empty() => new(0);

    /// <summary>Loads the rightmost tile of every level for a tree of <paramref name="size"/> leaves.</summary>
    public static TileStore Load(SqliteConnection connection, SqliteTransaction? transaction, long size)
    {
        var store = new TileStore(size);
        for (var level = 0; (size >> (TileHeight * level)) > 0; level++)
        {
            var count = size >> (TileHeight * level);
            var partial = (int)(count % TileWidth);
            var tile = new List<byte[]>(TileWidth);
            if (partial > 0)
            {
                var stored = ReadTile(connection, transaction, level, count / TileWidth)
                    ?? throw new InvalidOperationException($"log tile {level}/{count / TileWidth} is missing");
                if (stored.Length < partial * Rfc6962.HashSize)
                {
                    throw new InvalidOperationException(
                        $"log tile {level}/{count / TileWidth} has {stored.Length / 32} hashes, want {partial}");
                }
                for (var i = 0; i < partial; i++)
                {
                    tile.Add(stored.AsSpan(i * Rfc6962.HashSize, Rfc6962.HashSize).ToArray());
                }
            }
            store._rightTiles.Add(tile);
        }
        return store;
    }

    /// <summary>Appends a leaf hash, completing tiles (and appending their roots one level up) as they fill.</summary>
    public void Append(byte[] leafHash)
    {
        var value = leafHash;
        var level = 0;
        var count = Size;
        while (true)
        {
            while (_rightTiles.Count <= level)
            {
                _rightTiles.Add(new List<byte[]>(TileWidth));
            }
            var tile = _rightTiles[level];
            tile.Add(value);
            _dirty.Add((level, count / TileWidth));
            if (tile.Count < TileWidth)
            {
                break;
            }
            var hashes = Concat(tile);
            var subtrees = new byte[TileSubtrees.Size];
            value = TileSubtrees.Compute(hashes, subtrees);
            _pendingFull.Add((level, count / TileWidth, hashes, subtrees));
            _rightTiles[level] = new List<byte[]>(TileWidth);
            count /= TileWidth;
            level++;
        }
        Size++;
    }

    private readonly List<(int Level, long Index, byte[] Hashes, byte[] Subtrees)> _pendingFull = [];

    /// <summary>Writes every tile changed since the last flush.</summary>
    public void Flush(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO log_tiles (level, idx, hashes, subtrees) VALUES ($l, $i, $h, $s) " +
            "ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes, subtrees = excluded.subtrees";
        var level = command.Parameters.Add("$l", SqliteType.Integer);
        var index = command.Parameters.Add("$i", SqliteType.Integer);
        var hashes = command.Parameters.Add("$h", SqliteType.Blob);
        var subtrees = command.Parameters.Add("$s", SqliteType.Blob);
        foreach (var (l, i, full, stored) in _pendingFull)
        {
            level.Value = l;
            index.Value = i;
            hashes.Value = full;
            subtrees.Value = stored;
            command.ExecuteNonQuery();
            _dirty.Remove((l, i));
        }
        subtrees.Value = DBNull.Value; // a partial tile's subtrees are computed by its readers
        foreach (var (l, i) in _dirty)
        {
            level.Value = l;
            index.Value = i;
            hashes.Value = Concat(_rightTiles[l]);
            command.ExecuteNonQuery();
        }
        _pendingFull.Clear();
        _dirty.Clear();
    }

    /// <summary>
    /// The hash of the perfect subtree at <paramref name="height"/> and <paramref name="index"/>, computed from
    /// the rightmost in-memory tiles or stored tiles. The subtree must lie within the current size.
    /// </summary>
    public byte[] NodeHash(SqliteConnection connection, SqliteTransaction? transaction, int height, long index)
    {
        var level = height / TileHeight;
        var width = 1 << (height % TileHeight);
        var first = index * width;
        if ((index + 1) << height > Size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"node {height}/{index} is beyond size {Size}");
        }
        var tileIndex = first / TileWidth;
        var offset = (int)(first % TileWidth);
        var countAtLevel = Size >> (TileHeight * level);
        List<byte[]> hashes;
        if (tileIndex == countAtLevel / TileWidth && level < _rightTiles.Count)
        {
            hashes = _rightTiles[level].GetRange(offset, width);
        }
        else
        {
            var full = _pendingFull.FindIndex(t => t.Level == level && t.Index == tileIndex) is var pending and >= 0
                ? _pendingFull[pending].Hashes
                : ReadTile(connection, transaction, level, tileIndex)
                    ?? throw new InvalidOperationException($"log tile {level}/{tileIndex} is missing");
            hashes = new List<byte[]>(width);
            for (var i = 0; i < width; i++)
            {
                hashes.Add(full.AsSpan((offset + i) * Rfc6962.HashSize, Rfc6962.HashSize).ToArray());
            }
        }
        return width == 1 ? hashes[0] : MerkleTree.RootFromLeafHashes(hashes);
    }

    /// <summary>The compact range (perfect subtree roots, largest first) of the current size.</summary>
    public CompactRange ToCompactRange(SqliteConnection connection, SqliteTransaction? transaction)
    {
        var hashes = new List<byte[]>();
        long start = 0;
        for (var height = 62; height >= 0; height--)
        {
            if ((Size & (1L << height)) != 0)
            {
                hashes.Add(NodeHash(connection, transaction, height, start >> height));
                start += 1L << height;
            }
        }
        return CompactRange.FromHashes(Size, hashes);
    }

    private static byte[]? ReadTile(SqliteConnection connection, SqliteTransaction? transaction, int level, long index)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT hashes FROM log_tiles WHERE level = $l AND idx = $i";
        command.Parameters.AddWithValue("$l", level);
        command.Parameters.AddWithValue("$i", index);
        return command.ExecuteScalar() as byte[];
    }

    private static byte[] Concat(List<byte[]> hashes)
    {
        var bytes = new byte[hashes.Count * Rfc6962.HashSize];
        for (var i = 0; i < hashes.Count; i++)
        {
            hashes[i].CopyTo(bytes, i * Rfc6962.HashSize);
        }
        return bytes;
    }
}
