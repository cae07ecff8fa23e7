using System.Numerics;

namespace Tallystick.Merkle;

/// <summary>
/// Computes which stored nodes make up an inclusion or consistency proof, without touching any hash.
/// This lets a tile-based store serve proofs for trees far too large to hold in memory: it resolves the
/// returned <see cref="NodeId"/>s to hashes and calls <see cref="ProofNodes.Rehash"/>.
/// Port of transparency-dev/merkle <c>proof.Inclusion</c> and <c>proof.Consistency</c>; the resulting proofs
/// are exactly RFC 6962 <c>PATH</c> and <c>PROOF</c>. All members are pure and thread-safe.
/// </summary>
public static class MerkleProofNodes
{
    /// <summary>Returns the nodes of the inclusion proof (RFC 6962 <c>PATH(index, D[size])</c>) for one leaf.</summary>
    /// <param name="index">The 0-based leaf index; requires <c>0 &lt;= index &lt; size</c>.</param>
    /// <param name="size">The tree size the proof is relative to.</param>
    /// <returns>The node description; empty for the single-leaf tree.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative or not below
    /// <paramref name="size"/>.</exception>
    public static ProofNodes Inclusion(long index, long size)
    {
        if (index < 0 || index >= size)
        {
            throw new ArgumentOutOfRangeException(
                nameof(index), index, $"index {index} out of bounds for tree size {size}");
        }
        return Nodes((ulong)index, 0, (ulong)size).SkipFirst();
    }

    /// <summary>Returns the nodes of the consistency proof (RFC 6962 <c>PROOF(size1, D[size2])</c>) showing that
    /// the tree of <paramref name="size2"/> leaves extends the tree of <paramref name="size1"/> leaves.</summary>
    /// <param name="size1">The older tree size; requires <c>0 &lt; size1 &lt;= size2</c>.</param>
    /// <param name="size2">The newer tree size.</param>
    /// <returns>The node description; empty when the sizes are equal.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size1"/> is not positive (a proof from the
    /// empty tree is meaningless), or exceeds <paramref name="size2"/>.</exception>
    public static ProofNodes Consistency(long size1, long size2)
    {
        if (size1 <= 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(size1), size1, "consistency proof from an empty or negative tree size is meaningless");
        }
        if (size1 > size2)
        {
            throw new ArgumentOutOfRangeException(nameof(size1), size1, $"tree size {size1} > {size2}");
        }
        if (size1 == size2)
        {
            return ProofNodes.Empty;
        }

        // Start from the largest perfect subtree that ends at size1; the proof is that node (unless it is the
        // whole old tree, which the verifier already knows as root1) plus its inclusion path in size2.
        int level = BitOperations.TrailingZeroCount((ulong)size1);
        ulong index = (ulong)(size1 - 1) >> level;
        var nodes = Nodes(index, level, (ulong)size2);
        return BitOperations.IsPow2(size1) ? nodes.SkipFirst() : nodes;
    }

    // The nodes proving that node (level, index) is in the tree of the given size, starting with that node.
    private static ProofNodes Nodes(ulong index, int level, ulong size)
    {
        // The fork is where the path to (level, index) leaves the path to leaf `size`; its sibling is the
        // ephemeral node, which is not a perfect subtree and so is rebuilt from the nodes covering [end, size).
        int inner = BitLength(index ^ (size >> level)) - 1;
        var fork = new NodeId(level + inner, (long)(index >> inner));
        ulong begin = (ulong)fork.Index << fork.Level;
        ulong end = ((ulong)fork.Index + 1) << fork.Level;

        var ids = new List<NodeId>(1 + inner + RangeSize(end, size) + RangeSize(0, begin));
        var node = new NodeId(level, (long)index);
        ids.Add(node);
        for (; node.Level < fork.Level; node = node.Parent)
        {
            ids.Add(node.Sibling);
        }

        // Right-border nodes are reversed so that Rehash can fold them from lower to upper levels.
        int ephemeralBegin = ids.Count;
        AppendRangeNodes(end, size, ids);
        ids.Reverse(ephemeralBegin, ids.Count - ephemeralBegin);
        int ephemeralEnd = ids.Count;
        AppendRangeNodes(0, begin, ids);
        ids.Reverse(ephemeralEnd, ids.Count - ephemeralEnd);

        if (ephemeralBegin >= ephemeralEnd)
        {
            ephemeralBegin = 0;
            ephemeralEnd = 0;
        }
        return new ProofNodes([.. ids], ephemeralBegin, ephemeralEnd);
    }

    // Appends the minimal set of perfect subtrees covering [begin, end), left to right
    // (transparency-dev compact.RangeNodes).
    private static void AppendRangeNodes(ulong begin, ulong end, List<NodeId> ids)
    {
        var (left, right) = Decompose(begin, end);
        ulong position = begin;
        while (left != 0)
        {
            int level = BitOperations.TrailingZeroCount(left);
            ulong bit = 1UL << level;
            ids.Add(new NodeId(level, (long)(position >> level)));
            position += bit;
            left ^= bit;
        }
        while (right != 0)
        {
            int level = BitLength(right) - 1;
            ulong bit = 1UL << level;
            ids.Add(new NodeId(level, (long)(position >> level)));
            position += bit;
            right ^= bit;
        }
    }

    private static int RangeSize(ulong begin, ulong end)
    {
        var (left, right) = Decompose(begin, end);
        return BitOperations.PopCount(left) + BitOperations.PopCount(right);
    }

    // Splits [begin, end) into aligned power-of-two ranges: bit k of `left` (read upward) and of `right`
    // (read downward) marks a range of 2^k leaves (transparency-dev compact.Decompose).
    private static (ulong Left, ulong Right) Decompose(ulong begin, ulong end)
    {
        if (begin == 0)
        {
            return (0, end);
        }
        ulong beforeBegin = begin - 1;
        int divergence = BitLength(beforeBegin ^ end) - 1;
        ulong mask = (1UL << divergence) - 1;
        return (~beforeBegin & mask, end & mask);
    }

    private static int BitLength(ulong value) => 64 - BitOperations.LeadingZeroCount(value);
}
