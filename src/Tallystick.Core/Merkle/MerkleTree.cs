namespace Tallystick.Merkle;

/// <summary>
/// RFC 6962 §2.1 tree functions over a list of leaf hashes held in memory: the root (<c>MTH</c>), audit paths
/// (<c>PATH</c>) and consistency proofs (<c>PROOF</c>). Intended for small trees (a receipt's batch, tests);
/// a log stores its tree in tiles and uses <see cref="MerkleProofNodes"/> and <see cref="CompactRange"/>
/// instead. Every method is O(n) in the number of leaves, pure and thread-safe. Inputs are leaf hashes
/// (<see cref="Rfc6962.HashLeaf(ReadOnlySpan{byte})"/>), not raw leaf data, and each must be
/// <see cref="Rfc6962.HashSize"/> bytes.
/// </summary>
public static class MerkleTree
{
    /// <summary>Computes the Merkle tree hash of the given leaves.</summary>
    /// <param name="leafHashes">The leaf hashes in log order; may be empty.</param>
    /// <returns>A fresh 32-byte root; <see cref="Rfc6962.EmptyRoot"/> for an empty list.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="leafHashes"/> or one of its elements is
    /// null.</exception>
    /// <exception cref="ArgumentException">A leaf hash is not <see cref="Rfc6962.HashSize"/> bytes.</exception>
    public static byte[] RootFromLeafHashes(IReadOnlyList<byte[]> leafHashes)
    {
        CheckLeaves(leafHashes);
        var range = new CompactRange();
        foreach (var leafHash in leafHashes)
        {
            range.Append(leafHash);
        }
        return range.Root();
    }

    /// <summary>Computes the audit path <c>PATH(index, D[n])</c> for one leaf, n being the number of leaves.</summary>
    /// <param name="leafHashes">The leaf hashes in log order.</param>
    /// <param name="index">The 0-based leaf index; requires <c>0 &lt;= index &lt; n</c>.</param>
    /// <returns>The sibling hashes from the leaf upward; empty for a single-leaf tree.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="leafHashes"/> or one of its elements is
    /// null.</exception>
    /// <exception cref="ArgumentException">A leaf hash is not <see cref="Rfc6962.HashSize"/> bytes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative or not below n.</exception>
    public static byte[][] InclusionPath(IReadOnlyList<byte[]> leafHashes, long index)
    {
        CheckLeaves(leafHashes);
        if (index < 0 || index >= leafHashes.Count)
        {
            throw new ArgumentOutOfRangeException(
                nameof(index), index, $"index {index} out of bounds for tree size {leafHashes.Count}");
        }
        return Resolve(MerkleProofNodes.Inclusion(index, leafHashes.Count), leafHashes);
    }

    /// <summary>Computes the consistency proof <c>PROOF(size1, D[n])</c> from the first <paramref name="size1"/>
    /// leaves to all n leaves.</summary>
    /// <param name="leafHashes">The leaf hashes in log order.</param>
    /// <param name="size1">The older tree size; requires <c>0 &lt; size1 &lt;= n</c>.</param>
    /// <returns>The proof in RFC 6962 <c>SUBPROOF</c> order; empty when <paramref name="size1"/> equals n.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="leafHashes"/> or one of its elements is
    /// null.</exception>
    /// <exception cref="ArgumentException">A leaf hash is not <see cref="Rfc6962.HashSize"/> bytes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size1"/> is not positive or exceeds n.</exception>
    public static byte[][] ConsistencyProof(IReadOnlyList<byte[]> leafHashes, long size1)
    {
        CheckLeaves(leafHashes);
        if (size1 <= 0 || size1 > leafHashes.Count)
        {
            throw new ArgumentOutOfRangeException(
                nameof(size1), size1, $"size1 {size1} must be in (0, {leafHashes.Count}]");
        }
        return Resolve(MerkleProofNodes.Consistency(size1, leafHashes.Count), leafHashes);
    }

    private static byte[][] Resolve(ProofNodes nodes, IReadOnlyList<byte[]> leafHashes)
    {
        var levels = PerfectSubtreeLevels(leafHashes);
        var hashes = new byte[nodes.Ids.Count][];
        for (int i = 0; i < hashes.Length; i++)
        {
            var id = nodes.Ids[i];
            hashes[i] = levels[id.Level][id.Index];
        }
        return nodes.Rehash(hashes);
    }

    // levels[k][i] is the hash of the perfect subtree NodeId(k, i); only complete subtrees are computed, which
    // is all ProofNodes ever asks for.
    private static List<byte[][]> PerfectSubtreeLevels(IReadOnlyList<byte[]> leafHashes)
    {
        byte[][] leaves = [.. leafHashes];
        var levels = new List<byte[][]> { leaves };
        for (var below = levels[0]; below.Length >= 2; below = levels[^1])
        {
            var level = new byte[below.Length / 2][];
            for (int i = 0; i < level.Length; i++)
            {
                level[i] = Rfc6962.HashChildren(below[2 * i], below[(2 * i) + 1]);
            }
            levels.Add(level);
        }
        return levels;
    }

    private static void CheckLeaves(IReadOnlyList<byte[]> leafHashes)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        for (int i = 0; i < leafHashes.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(leafHashes[i], $"{nameof(leafHashes)}[{i}]");
            if (leafHashes[i].Length != Rfc6962.HashSize)
            {
                throw new ArgumentException(
                    $"leafHashes[{i}] has {leafHashes[i].Length} bytes, want {Rfc6962.HashSize}",
                    nameof(leafHashes));
            }
        }
    }
}
