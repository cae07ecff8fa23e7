using Tallystick.Merkle;

namespace Tallystick.Core.Tests.Merkle;

// Goal: inclusion proofs match every published and computed row of test-vectors.md §1.4, verify, and every
// corruption of them is rejected with a reason. Method: generate each row with MerkleTree.InclusionPath, compare
// hex, verify with MerkleProof, then run the transparency-dev probe set and the TestVerifyInclusion edge cases.
public sealed class InclusionProofTests
{
    private const string B = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7";
    private const string H = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e";
    private const string L = MerkleVectors.SevenLeafNodeL;

    public static TheoryData<long, long, string[]> Rows => new()
    {
        // Published (proof/verify_test.go inclusionProofs, converted to 0-based).
        { 0, 1, [] },
        { 0, 8, [B, H, MerkleVectors.Level2Quad1] },
        { 5, 8, [MerkleVectors.LeafHashHex[4], MerkleVectors.Level1Pair3, MerkleVectors.Level2Quad0] },
        { 2, 3, [MerkleVectors.Level1Pair0] },
        { 1, 5, [MerkleVectors.LeafHashHex[0], H, MerkleVectors.LeafHashHex[4]] },
        // Computed (RFC 6962 §2.1.3 example names for the 7-leaf tree).
        { 0, 7, [B, H, L] },
        { 3, 7, [MerkleVectors.LeafHashHex[2], MerkleVectors.Level1Pair0, L] },
        { 4, 7, [MerkleVectors.LeafHashHex[5], MerkleVectors.LeafHashHex[6], MerkleVectors.Level2Quad0] },
        { 6, 7, [MerkleVectors.Level1Pair2, MerkleVectors.Level2Quad0] },
        { 2, 8, [MerkleVectors.LeafHashHex[3], MerkleVectors.Level1Pair0, MerkleVectors.Level2Quad1] },
        { 7, 8, [MerkleVectors.LeafHashHex[6], MerkleVectors.Level1Pair2, MerkleVectors.Level2Quad0] },
        { 0, 2, [MerkleVectors.LeafHashHex[1]] },
        { 1, 2, [MerkleVectors.LeafHashHex[0]] },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void InclusionPath_VectorRow_MatchesExpectedProof(long index, long size, string[] proofHex)
    {
        var proof = MerkleTree.InclusionPath(MerkleVectors.LeafHashes((int)size), index);
        HashAssert.Equal(MerkleVectors.Decode(proofHex), proof, $"PATH({index}, D[{size}])");
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void VerifyInclusion_VectorRow_IsValidAndRootMatches(long index, long size, string[] proofHex)
    {
        var leafHash = MerkleVectors.LeafHashes(8)[index];
        var proof = MerkleVectors.Decode(proofHex);
        HashAssert.Valid(MerkleProof.VerifyInclusion(index, size, leafHash, proof, MerkleVectors.Root(size)),
            $"({index}, {size})");
        HashAssert.Equal(MerkleVectors.Root(size), MerkleProof.RootFromInclusionProof(index, size, leafHash, proof),
            $"root from ({index}, {size})");
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void VerifyInclusion_CorruptedVectorRow_IsInvalid(long index, long size, string[] proofHex)
    {
        var leafHash = MerkleVectors.LeafHashes(8)[index];
        var probes = ProofProbes.CorruptInclusion(
            index, size, leafHash, MerkleVectors.Decode(proofHex), MerkleVectors.Root(size));
        foreach (var p in probes)
        {
            HashAssert.Invalid(MerkleProof.VerifyInclusion(p.Index, p.Size, p.LeafHash, p.Proof, p.Root),
                $"({index}, {size}) probe '{p.Description}'");
        }
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(0, 1)]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    public void VerifyInclusion_EmptyProofWithBadLeafOrRoot_IsInvalid(long index, long size)
    {
        var someHash = Convert.FromHexString(MerkleVectors.SomeHashHex);
        var emptyRoot = Convert.FromHexString(MerkleVectors.EmptyRootHex);
        HashAssert.Invalid(MerkleProof.VerifyInclusion(index, size, someHash, [], []), "zero-length root");
        HashAssert.Invalid(MerkleProof.VerifyInclusion(index, size, [], [], emptyRoot), "zero-length leaf");
        HashAssert.Invalid(MerkleProof.VerifyInclusion(index, size, someHash, [], emptyRoot), "wrong root");
    }

    [Fact]
    public void VerifyInclusion_SingleEntryTree_RootEqualsLeafHash()
    {
        var hash = Rfc6962.HashLeaf("data"u8);
        HashAssert.Valid(MerkleProof.VerifyInclusion(0, 1, hash, [], hash), "root == leaf");
        HashAssert.Invalid(MerkleProof.VerifyInclusion(0, 1, [], [], hash), "empty leaf");
        HashAssert.Invalid(MerkleProof.VerifyInclusion(0, 1, hash, [], []), "empty root");
        HashAssert.Invalid(MerkleProof.VerifyInclusion(0, 1, [], [], []), "both empty");
    }

    [Fact]
    public void VerifyInclusion_WrongRoot_ReportsCalculatedAndExpectedRoots()
    {
        var leaves = MerkleVectors.LeafHashes(8);
        var proof = MerkleTree.InclusionPath(leaves, 5);
        var result = MerkleProof.VerifyInclusion(5, 8, leaves[5], proof, MerkleVectors.Root(7));
        Assert.Equal($"root mismatch: calculated 0x{MerkleVectors.RootHex[8]}, expected 0x{MerkleVectors.RootHex[7]}",
            result.Error);
    }

    [Fact]
    public void VerifyInclusion_ShortProof_ReportsWantedSize()
    {
        var leaves = MerkleVectors.LeafHashes(8);
        var proof = MerkleTree.InclusionPath(leaves, 0)[..2];
        var result = MerkleProof.VerifyInclusion(0, 8, leaves[0], proof, MerkleVectors.Root(8));
        Assert.Equal("wrong proof size 2, want 3", result.Error);
    }

    [Fact]
    public void RootFromInclusionProof_IndexAtSize_ThrowsProofExceptionNamingBoth()
    {
        var leaf = MerkleVectors.LeafHashes(1)[0];
        var e = Assert.Throws<ProofException>(() => MerkleProof.RootFromInclusionProof(5, 5, leaf, []));
        Assert.Equal("index is beyond size: 5 >= 5", e.Message);
    }

    [Fact]
    public void RootFromInclusionProof_ShortLeafOrProofElement_ThrowsProofException()
    {
        var leaves = MerkleVectors.LeafHashes(2);
        var shortHash = leaves[0][..31];
        Assert.Throws<ProofException>(() => MerkleProof.RootFromInclusionProof(0, 2, shortHash, [leaves[1]]));
        Assert.Throws<ProofException>(() => MerkleProof.RootFromInclusionProof(0, 2, leaves[0], [shortHash]));
        Assert.Throws<ProofException>(() => MerkleProof.RootFromInclusionProof(-1, 2, leaves[0], [leaves[1]]));
    }

    [Fact]
    public void VerifyInclusion_NullProofElement_IsInvalidNotThrown()
    {
        var leaves = MerkleVectors.LeafHashes(2);
        var result = MerkleProof.VerifyInclusion(0, 2, leaves[0], [null!], MerkleVectors.Root(2));
        Assert.Equal("proof[0] is null", result.Error);
    }

    [Fact]
    public void InclusionPath_IndexOutOfRange_ThrowsArgumentOutOfRange()
    {
        var leaves = MerkleVectors.LeafHashes(3);
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.InclusionPath(leaves, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.InclusionPath(leaves, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.InclusionPath([], 0));
    }
}
