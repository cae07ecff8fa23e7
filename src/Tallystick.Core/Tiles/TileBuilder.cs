using System.Numerics;
using Tallystick.Merkle;

namespace Tallystick.Tiles;

/// <summary>
/// One tlog-tiles hash tile: its address and its hashes, concatenated (<c>Path.Width × 32</c> bytes).
/// </summary>
/// <param name="Path">The tile's address; <see cref="TilePath.IsEntryBundle"/> is false.</param>
/// <param name="Hashes">The concatenated 32-byte hashes. Owned by the recipient.</param>
public sealed record Tile(TilePath Path, byte[] Hashes);

/// <summary>
/// Rebuilds a log's C2SP tlog-tiles hash tiles and root from its leaf hashes, appended in log order, in bounded
/// memory: only the rightmost tile of each level (at most 8 KiB per level) and the compact range are held, so a
/// log of any size can be replayed as a stream (an fsck, a mirror). Level-0 tiles hold the leaf hashes; a hash at
/// level L+1 is the Merkle tree hash of a full tile at level L. Not thread-safe.
/// </summary>
public sealed class TileBuilder
{
    private const int TileBytes = TilePath.FullWidth * Rfc6962.HashSize;

    // Per level: the rightmost tile's hashes, how many it holds, and how many hashes the level holds in all.
    private readonly List<byte[]> buffers = [];
    private readonly List<int> counts = [];
    private readonly List<long> items = [];
    private readonly List<Tile> completed = [];
    private readonly CompactRange range = new();

    /// <summary>The number of leaves appended so far (the tree size).</summary>
    public long Size => range.Size;

    /// <summary>Appends the next leaf hash.</summary>
    /// <param name="leafHash">The RFC 6962 leaf hash of entry <see cref="Size"/>; 32 bytes.</param>
    /// <returns>The full tiles this leaf completed, lowest level first: usually none, one every 256 leaves, two
    /// every 65,536. The list is reused by the next call; the tiles themselves are fresh.</returns>
    /// <exception cref="ArgumentException"><paramref name="leafHash"/> is not 32 bytes.</exception>
    public IReadOnlyList<Tile> Append(ReadOnlySpan<byte> leafHash)
    {
        completed.Clear();
        range.Append(leafHash); // validates the length
        Span<byte> value = stackalloc byte[Rfc6962.HashSize];
        leafHash.CopyTo(value);
        for (int level = 0; ; level++)
        {
            if (buffers.Count == level)
            {
                buffers.Add(new byte[TileBytes]);
                counts.Add(0);
                items.Add(0);
            }
            var buffer = buffers[level];
            int count = counts[level];
            value.CopyTo(buffer.AsSpan(count * Rfc6962.HashSize));
            counts[level] = count + 1;
            items[level]++;
            if (count + 1 < TilePath.FullWidth)
            {
                break;
            }
            completed.Add(new Tile(TilePath.HashTile(level, (items[level] - 1) / TilePath.FullWidth),
                (byte[])buffer.Clone()));
            ReduceInPlace(buffer, TilePath.FullWidth);
            buffer.AsSpan(0, Rfc6962.HashSize).CopyTo(value);
            counts[level] = 0;
        }
        return completed;
    }

    /// <summary>The rightmost partial tile of every level that has one, for the current <see cref="Size"/>, lowest
    /// level first: at level L it holds <c>floor(Size / 256^L) mod 256</c> hashes (tlog-tiles "partial tiles";
    /// empty tiles are not listed).</summary>
    /// <returns>Fresh tiles.</returns>
    public IReadOnlyList<Tile> PartialTiles()
    {
        var tiles = new List<Tile>();
        for (int level = 0; level < buffers.Count; level++)
        {
            if (counts[level] > 0)
            {
                tiles.Add(new Tile(TilePath.HashTile(level, items[level] / TilePath.FullWidth, counts[level]),
                    buffers[level].AsSpan(0, counts[level] * Rfc6962.HashSize).ToArray()));
            }
        }
        return tiles;
    }

    /// <summary>The RFC 6962 root of the <see cref="Size"/> leaves appended so far.</summary>
    /// <returns>A fresh 32-byte array; the empty-tree root when nothing was appended.</returns>
    public byte[] Root() => range.Root();

    /// <summary>Computes the Merkle tree hash of a perfect subtree from its consecutive hashes at one level, e.g.
    /// a node's hash from a slice of a tile.</summary>
    /// <param name="hashes">A power-of-two number (at least one) of concatenated 32-byte hashes.</param>
    /// <returns>A fresh 32-byte hash; a copy of the input when it holds a single hash.</returns>
    /// <exception cref="ArgumentException">The length is not a power of two times 32 bytes.</exception>
    public static byte[] PerfectSubtreeRoot(ReadOnlySpan<byte> hashes)
    {
        int count = hashes.Length / Rfc6962.HashSize;
        if (hashes.Length % Rfc6962.HashSize != 0 || !BitOperations.IsPow2(count))
        {
            throw new ArgumentException(
                $"{hashes.Length} bytes are not a power-of-two number of 32-byte hashes", nameof(hashes));
        }
        var work = hashes.ToArray();
        ReduceInPlace(work, count);
        return work.AsSpan(0, Rfc6962.HashSize).ToArray();
    }

    // Hashes pairs level by level until one hash remains in the first 32 bytes. Writing pair i to slot i is safe:
    // slot i was already read (i <= 2i) and HashChildren copies its inputs before hashing.
    private static void ReduceInPlace(byte[] buffer, int count)
    {
        const int size = Rfc6962.HashSize;
        for (; count > 1; count /= 2)
        {
            for (int i = 0; i < count / 2; i++)
            {
                Rfc6962.HashChildren(buffer.AsSpan(2 * i * size, size), buffer.AsSpan(((2 * i) + 1) * size, size),
                    buffer.AsSpan(i * size, size));
            }
        }
    }
}
