using Tallystick.Merkle;

namespace Tallystick.Core.Tests.Merkle;

// Goal: consistency proofs match every published and computed row of test-vectors.md §1.5, verify, and every
// corruption is rejected. Method: generate each row with MerkleTree.ConsistencyProof, compare hex, verify with
// MerkleProof, run the transparency-dev probe set, and check the TestVerifyConsistency edge rules.
public sealed class ConsistencyProofTests
{
    private const string B = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7";
    private const string H = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e";
    private const string L = MerkleVectors.SevenLeafNodeL;

    public static TheoryData<long, long, string[]> Rows => new()
    {
        // Published (proof/verify_test.go consistencyProofs).
        { 1, 1, [] },
        { 1, 8, [B, H, MerkleVectors.Level2Quad1] },
        { 6, 8, [MerkleVectors.Level1Pair2, MerkleVectors.Level1Pair3, MerkleVectors.Level2Quad0] },
        { 2, 5, [H, MerkleVectors.LeafHashHex[4]] },
        { 6, 7, [MerkleVectors.Level1Pair2, MerkleVectors.LeafHashHex[6], MerkleVectors.Level2Quad0] },
        // Computed (RFC 6962 §2.1.3 example names for the 7-leaf tree, and more).
        { 3, 7, [MerkleVectors.LeafHashHex[2], MerkleVectors.LeafHashHex[3], MerkleVectors.Level1Pair0, L] },
        { 4, 7, [L] },
        { 5, 7, [MerkleVectors.LeafHashHex[4], MerkleVectors.LeafHashHex[5], MerkleVectors.LeafHashHex[6],
            MerkleVectors.Level2Quad0] },
        { 7, 8, [MerkleVectors.LeafHashHex[6], MerkleVectors.LeafHashHex[7], MerkleVectors.Level1Pair2,
            MerkleVectors.Level2Quad0] },
        { 1, 2, [B] },
        { 2, 8, [H, MerkleVectors.Level2Quad1] },
        { 4, 8, [MerkleVectors.Level2Quad1] },
        { 3, 8, [MerkleVectors.LeafHashHex[2], MerkleVectors.LeafHashHex[3], MerkleVectors.Level1Pair0,
            MerkleVectors.Level2Quad1] },
        { 1, 4, [B, H] },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void ConsistencyProof_VectorRow_MatchesExpectedProof(long size1, long size2, string[] proofHex)
    {
        var proof = MerkleTree.ConsistencyProof(MerkleVectors.LeafHashes((int)size2), size1);
        HashAssert.Equal(MerkleVectors.Decode(proofHex), proof, $"PROOF({size1}, D[{size2}])");
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void VerifyConsistency_VectorRow_IsValid(long size1, long size2, string[] proofHex)
    {
        var result = MerkleProof.VerifyConsistency(
            size1, size2, MerkleVectors.Root(size1), MerkleVectors.Root(size2), MerkleVectors.Decode(proofHex));
        HashAssert.Valid(result, $"({size1}, {size2})");
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void VerifyConsistency_CorruptedVectorRow_IsInvalid(long size1, long size2, string[] proofHex)
    {
        var proof = MerkleVectors.Decode(proofHex);
        if (proof.Length == 0)
        {
            return; // As in Go: a trivial proof has nothing to corrupt; its edge rules are tested separately.
        }
        var probes = ProofProbes.CorruptConsistency(
            size1, size2, MerkleVectors.Root(size1), MerkleVectors.Root(size2), proof);
        foreach (var p in probes)
        {
            HashAssert.Invalid(MerkleProof.VerifyConsistency(p.Size1, p.Size2, p.Root1, p.Root2, p.Proof),
                $"({size1}, {size2}) probe '{p.Description}'");
        }
    }

    [Theory]
    [InlineData(0, 0, "r1", "r1", false, true)]
    [InlineData(0, 1, "r1", "r2", false, true)]
    [InlineData(1, 1, "r2", "r2", false, true)]
    [InlineData(0, 0, "r1", "r2", false, false)]
    [InlineData(1, 1, "r1", "r2", false, false)]
    [InlineData(1, 0, "r1", "r2", false, false)]
    [InlineData(2, 1, "r1", "r2", false, false)]
    [InlineData(1, 2, "r1", "r2", false, false)]
    [InlineData(0, 0, "empty", "r2", false, false)]
    [InlineData(1, 1, "empty", "r2", false, false)]
    [InlineData(0, 0, "empty", "empty", true, false)]
    [InlineData(0, 1, "empty", "empty", true, false)]
    [InlineData(1, 1, "empty", "empty", true, false)]
    public void VerifyConsistency_EdgeRule_MatchesTransparencyDev(
        long size1, long size2, string root1, string root2, bool nonEmptyProof, bool valid)
    {
        byte[][] proof = nonEmptyProof ? [Rfc6962.EmptyRoot()] : [];
        var result = MerkleProof.VerifyConsistency(size1, size2, Root(root1), Root(root2), proof);
        Assert.True(result.IsValid == valid, $"({size1}, {size2}, {root1}, {root2}, proof {proof.Length}): {result}");
    }

    [Fact]
    public void VerifyConsistency_TimeTravel_ReportsBothSizes()
    {
        var result = MerkleProof.VerifyConsistency(2, 1, MerkleVectors.Root(2), MerkleVectors.Root(1), []);
        Assert.Equal("size2 (1) < size1 (2)", result.Error);
    }

    [Fact]
    public void VerifyConsistency_WrongRoot2_ReportsRootMismatch()
    {
        var proof = MerkleTree.ConsistencyProof(MerkleVectors.LeafHashes(8), 6);
        var result = MerkleProof.VerifyConsistency(6, 8, MerkleVectors.Root(6), MerkleVectors.Root(7), proof);
        Assert.StartsWith("root mismatch: calculated 0x", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ConsistencyProof_SizeOutOfRange_ThrowsArgumentOutOfRange()
    {
        var leaves = MerkleVectors.LeafHashes(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.ConsistencyProof(leaves, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.ConsistencyProof(leaves, 5));
        Assert.Empty(MerkleTree.ConsistencyProof(leaves, 4));
    }

    // 32-byte stand-ins for transparency-dev's "don't care" roots: the verifier insists on hash-sized roots.
    private static byte[] Root(string name) => name switch
    {
        "empty" => Rfc6962.EmptyRoot(),
        "r1" => Enumerable.Repeat((byte)0x11, Rfc6962.HashSize).ToArray(),
        _ => Enumerable.Repeat((byte)0x22, Rfc6962.HashSize).ToArray(),
    };
}
