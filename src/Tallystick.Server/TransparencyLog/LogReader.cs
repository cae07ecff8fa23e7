using Microsoft.Data.Sqlite;
using Tallystick.Merkle;

namespace Tallystick.Server.TransparencyLog;

/// <summary>
/// Reads the stored transparency log on a read connection: the latest signed checkpoint, entries, node hashes from
/// the hash tiles (C2SP tlog-tiles layout as <see cref="TileStore"/> writes it: tile L/N holds up to 256 hashes at
/// tree height 8L) and inclusion proofs built from them. The sequencer writes a checkpoint and the tiles it covers in
/// one transaction, so a caller that reads inside one read transaction sees tiles that cover the checkpoint it read.
/// Tiles are cached for the reader's lifetime: use one reader per request. Not thread-safe.
/// </summary>
internal sealed class LogReader(SqliteConnection connection, SqliteTransaction? transaction)
{
    private const int TileHeight = 8;
    private const int TileWidth = 1 << TileHeight;

    private readonly Dictionary<(int Level, long Index), byte[]> _tiles = [];

    /// <summary>A checkpoint as stored: size, root, the signed note, and when it was signed.</summary>
    public sealed record StoredCheckpoint(long Size, byte[] Root, string Note, long SignedAtUnixMs);

    /// <summary>
    /// The latest stored checkpoint no larger than <paramref name="publishedSize"/> (the sequencer's published head:
    /// a checkpoint row commits before its fsync, and must not be shown before it is durable), or null before the
    /// first start has signed one.
    /// </summary>
    public StoredCheckpoint? LatestCheckpoint(long publishedSize)
    {
        using var command = Command(
            "SELECT size, root, note, created_at FROM checkpoints WHERE size <= $max ORDER BY size DESC LIMIT 1");
        command.Parameters.AddWithValue("$max", publishedSize);
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new StoredCheckpoint(reader.GetInt64(0), (byte[])reader[1], reader.GetString(2), reader.GetInt64(3))
            : null;
    }

    /// <summary>The log entry at <paramref name="index"/>, or null when the log is not that long.</summary>
    public byte[]? Entry(long index)
    {
        using var command = Command("SELECT entry FROM log_entries WHERE idx = $i");
        command.Parameters.AddWithValue("$i", index);
        return command.ExecuteScalar() as byte[];
    }

    /// <summary>The RFC 9162 inclusion proof of leaf <paramref name="index"/> in the tree of <paramref name="size"/>
    /// leaves, assembled from the tiles. Requires <c>0 &lt;= index &lt; size</c> and tiles covering
    /// <paramref name="size"/> (true for any size up to the latest stored checkpoint).</summary>
    public byte[][] InclusionProof(long index, long size)
    {
        var nodes = MerkleProofNodes.Inclusion(index, size);
        var hashes = new byte[nodes.Ids.Count][];
        for (int i = 0; i < hashes.Length; i++)
        {
            hashes[i] = NodeHash(nodes.Ids[i], size);
        }
        return nodes.Rehash(hashes);
    }

    /// <summary>The hash of the perfect subtree <paramref name="node"/>, which must lie within the first
    /// <paramref name="size"/> leaves: read from its tile, or hashed up from the at most 128 tile entries below it
    /// when its height is not a multiple of 8.</summary>
    public byte[] NodeHash(NodeId node, long size)
    {
        if (node.Level is < 0 or > 62 || node.Index < 0 || ((node.Index + 1) << node.Level) > size)
        {
            throw new ArgumentOutOfRangeException(nameof(node), node, $"not a complete subtree of a tree of size {size}");
        }
        int level = node.Level / TileHeight;
        int width = 1 << (node.Level % TileHeight);
        long first = node.Index * width;
        long tileIndex = first / TileWidth;
        int offset = (int)(first % TileWidth);
        var tile = Tile(level, tileIndex);
        if (tile.Length < (offset + width) * Rfc6962.HashSize)
        {
            throw new InvalidOperationException(
                $"log tile {level}/{tileIndex} holds {tile.Length / Rfc6962.HashSize} hashes, need {offset + width}: " +
                "the log is corrupt; run `tally log verify`");
        }
        var hashes = new byte[width][];
        for (int i = 0; i < width; i++)
        {
            hashes[i] = tile.AsSpan((offset + i) * Rfc6962.HashSize, Rfc6962.HashSize).ToArray();
        }
        return width == 1 ? hashes[0] : MerkleTree.RootFromLeafHashes(hashes);
    }

    private byte[] Tile(int level, long index)
    {
        if (_tiles.TryGetValue((level, index), out var cached))
        {
            return cached;
        }
        using var command = Command("SELECT hashes FROM log_tiles WHERE level = $l AND idx = $i");
        command.Parameters.AddWithValue("$l", level);
        command.Parameters.AddWithValue("$i", index);
        var tile = command.ExecuteScalar() as byte[]
            ?? throw new InvalidOperationException(
                $"log tile {level}/{index} is missing: the log is corrupt; run `tally log verify`");
        _tiles[(level, index)] = tile;
        return tile;
    }

    private SqliteCommand Command(string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }
}
