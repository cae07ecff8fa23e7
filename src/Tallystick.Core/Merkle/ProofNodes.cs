using System.Collections.ObjectModel;

namespace Tallystick.Merkle;

/// <summary>
/// Describes how to assemble an inclusion or consistency proof from stored node hashes, as returned by
/// <see cref="MerkleProofNodes"/>. A store fetches or computes the hash of each node in <see cref="Ids"/>
/// (every one is a perfect subtree, so it never depends on leaves the tree does not have yet) and passes
/// them to <see cref="Rehash"/>, which folds the nodes under the proof's "ephemeral" right-border node
/// into the single hash the proof needs. Port of transparency-dev/merkle <c>proof.Nodes</c>.
/// Instances are immutable and thread-safe.
/// </summary>
public sealed class ProofNodes
{
    private readonly NodeId[] ids;

    // ids[ephemeralBegin..ephemeralEnd) are the perfect subtrees, lowest level first, that together make up
    // the ephemeral node; an empty range means the proof has no ephemeral node.
    private readonly int ephemeralBegin;
    private readonly int ephemeralEnd;

    internal ProofNodes(NodeId[] ids, int ephemeralBegin, int ephemeralEnd)
    {
        this.ids = ids;
        this.ephemeralBegin = ephemeralBegin;
        this.ephemeralEnd = ephemeralEnd;
        Ids = new ReadOnlyCollection<NodeId>(ids);
    }

    /// <summary>The nodes whose hashes <see cref="Rehash"/> needs, in the order it needs them. Each is a perfect
    /// subtree lying entirely inside the tree the proof was built for. Empty for a trivial proof.</summary>
    public IReadOnlyList<NodeId> Ids { get; }

    internal static ProofNodes Empty { get; } = new([], 0, 0);

    /// <summary>
    /// Builds the final proof from the hashes of <see cref="Ids"/>: hashes outside the ephemeral block are
    /// copied through, and the block is folded bottom-up into one hash, exactly like transparency-dev's
    /// <c>Nodes.Rehash</c>.
    /// </summary>
    /// <param name="hashes">The 32-byte hash of each node in <see cref="Ids"/>, in the same order. Not
    /// modified.</param>
    /// <returns>The proof, ordered from the leaf (or old root) upward; every element is a fresh array.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="hashes"/> or one of its elements is null.</exception>
    /// <exception cref="ArgumentException">The count differs from <see cref="Ids"/>, or a hash is not
    /// <see cref="Rfc6962.HashSize"/> bytes long.</exception>
    public byte[][] Rehash(IReadOnlyList<byte[]> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        if (hashes.Count != ids.Length)
        {
            throw new ArgumentException($"got {hashes.Count} hashes but expected {ids.Length}", nameof(hashes));
        }
        for (int i = 0; i < hashes.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(hashes[i], $"{nameof(hashes)}[{i}]");
            if (hashes[i].Length != Rfc6962.HashSize)
            {
                throw new ArgumentException(
                    $"hashes[{i}] has {hashes[i].Length} bytes, want {Rfc6962.HashSize}", nameof(hashes));
            }
        }

        int folded = ephemeralEnd - ephemeralBegin > 1 ? ephemeralEnd - ephemeralBegin - 1 : 0;
        var proof = new byte[ids.Length - folded][];
        int cursor = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            var hash = (byte[])hashes[i].Clone();
            if (i == ephemeralBegin && ephemeralBegin < ephemeralEnd)
            {
                // The block is ordered from lower to upper levels, and every node in it lies to the left of
                // the ones before it, so each step hashes (next, accumulated).
                for (i++; i < ephemeralEnd; i++)
                {
                    Rfc6962.HashChildren(hashes[i], hash, hash);
                }
                i--;
            }
            proof[cursor++] = hash;
        }
        return proof;
    }

    internal ProofNodes SkipFirst()
    {
        bool hasEphemeral = ephemeralBegin < ephemeralEnd;
        return new ProofNodes(
            ids[1..],
            hasEphemeral ? ephemeralBegin - 1 : 0,
            hasEphemeral ? ephemeralEnd - 1 : 0);
    }
}
