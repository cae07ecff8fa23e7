using Microsoft.Data.Sqlite;
using Tallystick.Merkle;
using Tallystick.Tiles;

namespace Tallystick.Server.TransparencyLog;

/// <summary>
/// The interior hashes of a full hash tile that are stored next to it (<c>log_tiles.subtrees</c>): the perfect
/// subtrees at heights 4 to 7 inside the tile, 16 + 8 + 4 + 2 = 30 hashes (960 bytes, 3.75 bytes per leaf at level 0).
/// With them a proof through a tile that is not cached hashes at most 1 + 3 + 7 = 11 times (heights 1–3) instead of
/// 255, for 12 % more tile storage. They are not part of the tlog-tiles format: never served, recomputable from the
/// tile (<c>tally log verify</c> checks them), and absent (NULL) for partial tiles and tiles written by builds before
/// them, whose subtrees the reader computes.
/// </summary>
internal static class TileSubtrees
{
    /// <summary>The lowest height stored.</summary>
    public const int FirstHeight = 4;

    /// <summary>Hashes stored: heights 4, 5, 6, 7 in that order, each left to right.</summary>
    public const int Count = 30;

    /// <summary>Bytes stored.</summary>
    public const int Size = Count * Rfc6962.HashSize;

    /// <summary>Computes the stored subtree hashes of the full tile <paramref name="hashes"/> (256 hashes) into
    /// <paramref name="stored"/> (<see cref="Size"/> bytes) and returns the tile's root (its hash one level up).</summary>
    public static byte[] Compute(ReadOnlySpan<byte> hashes, Span<byte> stored)
    {
        const int hashSize = Rfc6962.HashSize;
        if (hashes.Length != TilePath.FullWidth * hashSize || stored.Length != Size)
        {
            throw new ArgumentException($"a full tile has {TilePath.FullWidth} hashes and {Count} stored subtrees");
        }
        Span<byte> level = stackalloc byte[TilePath.FullWidth / 2 * hashSize];
        Span<byte> below = stackalloc byte[TilePath.FullWidth * hashSize];
        hashes.CopyTo(below);
        int written = 0;
        for (int height = 1; height <= TilePath.TileHeight; height++)
        {
            int count = TilePath.FullWidth >> height;
            for (int i = 0; i < count; i++)
            {
                Rfc6962.HashChildren(below.Slice(2 * i * hashSize, hashSize), below.Slice(((2 * i) + 1) * hashSize, hashSize),
                    level.Slice(i * hashSize, hashSize));
            }
            if (height >= FirstHeight && height < TilePath.TileHeight)
            {
                level[..(count * hashSize)].CopyTo(stored[(written * hashSize)..]);
                written += count;
            }
            level[..(count * hashSize)].CopyTo(below);
        }
        return below[..hashSize].ToArray();
    }

    /// <summary>Runs <paramref name="query"/> (<c>SELECT hashes, subtrees FROM log_tiles WHERE …</c>, one row at most)
    /// and returns the tile's hashes and stored subtree hashes, each null when absent.</summary>
    public static (byte[]? Hashes, byte[]? Subtrees) ReadRow(SqliteCommand query)
    {
        using var row = query.ExecuteReader();
        return row.Read() ? ((byte[])row[0], row.IsDBNull(1) ? null : (byte[])row[1]) : (null, null);
    }

    /// <summary>The stored hash of the subtree at <paramref name="height"/> (4–7) and <paramref name="index"/>
    /// within the tile.</summary>
    public static ReadOnlySpan<byte> Get(ReadOnlySpan<byte> stored, int height, int index)
    {
        int offset = 0;
        for (int h = FirstHeight; h < height; h++)
        {
            offset += TilePath.FullWidth >> h;
        }
        return stored.Slice((offset + index) * Rfc6962.HashSize, Rfc6962.HashSize);
    }
}
