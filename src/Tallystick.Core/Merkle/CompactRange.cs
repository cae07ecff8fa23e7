using System.Collections.ObjectModel;
using System.Numerics;

namespace Tallystick.Merkle;

/// <summary>
/// The compact range <c>[0, Size)</c> of an append-only log: the roots of the perfect subtrees given by the
/// binary decomposition of <see cref="Size"/>, largest first. This is all the state needed to keep appending
/// leaves and to compute the current root, so a log never needs the whole tree in memory.
/// <see cref="Append"/> is amortised O(1) hashes (O(log n) worst case) and allocates only the new 32-byte hash.
/// Not thread-safe: callers serialise appends.
/// </summary>
public sealed class CompactRange
{
    private readonly List<byte[]> hashes;

    /// <summary>Creates the empty range (size 0), whose root is <see cref="Rfc6962.EmptyRoot"/>.</summary>
    public CompactRange()
    {
        hashes = [];
        Hashes = new ReadOnlyCollection<byte[]>(hashes);
    }

    private CompactRange(long size, List<byte[]> hashes)
    {
        Size = size;
        this.hashes = hashes;
        Hashes = new ReadOnlyCollection<byte[]>(hashes);
    }

    /// <summary>The number of leaves appended so far (the tree size).</summary>
    public long Size { get; private set; }

    /// <summary>
    /// A live read-only view of the perfect-subtree roots, left to right: one per set bit of <see cref="Size"/>,
    /// the largest subtree first. Persist these with <see cref="Size"/> and restore with <see cref="FromHashes"/>.
    /// The arrays are shared with this range and never modified by it; callers must not modify them either.
    /// </summary>
    public IReadOnlyList<byte[]> Hashes { get; }

    /// <summary>Restores a range from a persisted <see cref="Size"/> and <see cref="Hashes"/> pair.</summary>
    /// <param name="size">The tree size; must not be negative.</param>
    /// <param name="hashes">The perfect-subtree roots, largest first; the count must equal the number of set bits
    /// of <paramref name="size"/> and each must be <see cref="Rfc6962.HashSize"/> bytes. They are copied.</param>
    /// <returns>A range that continues exactly where the persisted one stopped.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="hashes"/> or one of its elements is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is negative.</exception>
    /// <exception cref="ArgumentException">The count or a hash length is wrong.</exception>
    public static CompactRange FromHashes(long size, IReadOnlyList<byte[]> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        int want = BitOperations.PopCount((ulong)size);
        if (hashes.Count != want)
        {
            throw new ArgumentException(
                $"size {size} needs {want} subtree hashes, got {hashes.Count}", nameof(hashes));
        }
        var copies = new List<byte[]>(want + 1);
        for (int i = 0; i < hashes.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(hashes[i], $"{nameof(hashes)}[{i}]");
            if (hashes[i].Length != Rfc6962.HashSize)
            {
                throw new ArgumentException(
                    $"hashes[{i}] has {hashes[i].Length} bytes, want {Rfc6962.HashSize}", nameof(hashes));
            }
            copies.Add((byte[])hashes[i].Clone());
        }
        return new CompactRange(size, copies);
    }

    /// <summary>Appends one leaf, merging equal-sized subtrees as in binary addition.</summary>
    /// <param name="leafHash">The RFC 6962 leaf hash of the next entry (see
    /// <see cref="Rfc6962.HashLeaf(ReadOnlySpan{byte})"/>);
    /// must be <see cref="Rfc6962.HashSize"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="leafHash"/> has the wrong length.</exception>
    /// <exception cref="OverflowException">The range already holds <see cref="long.MaxValue"/> leaves.</exception>
    public void Append(ReadOnlySpan<byte> leafHash)
    {
        if (leafHash.Length != Rfc6962.HashSize)
        {
            throw new ArgumentException(
                $"leafHash has {leafHash.Length} bytes, want {Rfc6962.HashSize}", nameof(leafHash));
        }
        long newSize = checked(Size + 1);

        // Merged hashes are written into the new leaf's own array, so arrays already handed out through
        // Hashes never change. Each trailing one bit of the old size is one merge.
        var merged = leafHash.ToArray();
        for (long carry = Size; (carry & 1) == 1; carry >>= 1)
        {
            int last = hashes.Count - 1;
            Rfc6962.HashChildren(hashes[last], merged, merged);
            hashes.RemoveAt(last);
        }
        hashes.Add(merged);
        Size = newSize;
    }

    /// <summary>Computes the RFC 6962 root of the <see cref="Size"/> leaves appended so far, by hashing the
    /// subtree roots together from the right.</summary>
    /// <returns>A fresh 32-byte array; <see cref="Rfc6962.EmptyRoot"/> when <see cref="Size"/> is 0.</returns>
    public byte[] Root()
    {
        if (hashes.Count == 0)
        {
            return Rfc6962.EmptyRoot();
        }
        var root = (byte[])hashes[^1].Clone();
        for (int i = hashes.Count - 2; i >= 0; i--)
        {
            Rfc6962.HashChildren(hashes[i], root, root);
        }
        return root;
    }
}
