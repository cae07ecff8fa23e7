using System.Text;

namespace Tallystick.Core.Tests.Merkle;

// Corrupted variants of a good proof, after transparency-dev/merkle proof/verify_test.go
// (corruptInclusionProof / corruptConsistencyProof). Every probe must be rejected by the verifier.
internal static class ProofProbes
{
    public sealed record InclusionProbe(string Description, long Index, long Size, byte[] LeafHash,
        byte[][] Proof, byte[] Root);

    public sealed record ConsistencyProbe(string Description, long Size1, long Size2, byte[] Root1, byte[] Root2,
        byte[][] Proof);

    public static List<InclusionProbe> CorruptInclusion(long index, long size, byte[] leafHash, byte[][] proof,
        byte[] root)
    {
        var emptyRoot = Convert.FromHexString(MerkleVectors.EmptyRootHex);
        var someHash = Convert.FromHexString(MerkleVectors.SomeHashHex);
        var probes = new List<InclusionProbe>
        {
            new("index - 1", index - 1, size, leafHash, proof, root),
            new("index + 1", index + 1, size, leafHash, proof, root),
            new("index ^ 2", index ^ 2, size, leafHash, proof, root),
            new("size * 2", index, size * 2, leafHash, proof, root),
            new("size / 2", index, size / 2, leafHash, proof, root),
            new("wrong leaf", index, size, Encoding.ASCII.GetBytes("WrongLeaf"), proof, root),
            new("empty root", index, size, leafHash, proof, emptyRoot),
            new("random root", index, size, leafHash, proof, someHash),
            new("trailing garbage", index, size, leafHash, [.. proof, []], root),
            new("trailing root", index, size, leafHash, [.. proof, root], root),
            new("preceding garbage", index, size, leafHash, [[], .. proof], root),
            new("preceding root", index, size, leafHash, [root, .. proof], root),
        };
        for (int i = 0; i < proof.Length; i++)
        {
            probes.Add(new($"proof[{i}] bit 3 flipped", index, size, leafHash, FlipBit(proof, i, 8), root));
        }
        if (proof.Length > 0)
        {
            probes.Add(new("removed component", index, size, leafHash, proof[..^1], root));
        }
        if (proof.Length > 1)
        {
            probes.Add(new("inserted component", index, size, leafHash, [proof[0], someHash, .. proof[1..]], root));
        }
        return probes;
    }

    public static List<ConsistencyProbe> CorruptConsistency(long size1, long size2, byte[] root1, byte[] root2,
        byte[][] proof)
    {
        var wrongRoot = Encoding.ASCII.GetBytes("WrongRoot");
        var probes = new List<ConsistencyProbe>
        {
            new("size1 - 1", size1 - 1, size2, root1, root2, proof),
            new("size1 + 1", size1 + 1, size2, root1, root2, proof),
            new("size1 ^ 2", size1 ^ 2, size2, root1, root2, proof),
            new("size2 * 2", size1, size2 * 2, root1, root2, proof),
            new("size2 / 2", size1, size2 / 2, root1, root2, proof),
            new("wrong root1", size1, size2, wrongRoot, root2, proof),
            new("wrong root2", size1, size2, root1, wrongRoot, proof),
            new("swapped roots", size1, size2, root2, root1, proof),
            new("empty proof", size1, size2, root1, root2, []),
            new("trailing garbage", size1, size2, root1, root2, [.. proof, []]),
            new("trailing root1", size1, size2, root1, root2, [.. proof, root1]),
            new("trailing root2", size1, size2, root1, root2, [.. proof, root2]),
            new("preceding garbage", size1, size2, root1, root2, [[], .. proof]),
            new("preceding root1", size1, size2, root1, root2, [root1, .. proof]),
            new("preceding root2", size1, size2, root1, root2, [root2, .. proof]),
            new("preceding proof[0]", size1, size2, root1, root2, [proof[0], .. proof]),
        };
        if (proof.Length > 0)
        {
            probes.Add(new("truncated proof", size1, size2, root1, root2, proof[..^1]));
        }
        for (int i = 0; i < proof.Length; i++)
        {
            probes.Add(new($"proof[{i}] bit 4 flipped", size1, size2, root1, root2, FlipBit(proof, i, 16)));
        }
        return probes;
    }

    private static byte[][] FlipBit(byte[][] proof, int element, byte mask)
    {
        var copy = proof.Select(h => (byte[])h.Clone()).ToArray();
        copy[element][0] ^= mask;
        return copy;
    }
}
