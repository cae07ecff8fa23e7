using Tallystick.Merkle;

namespace Tallystick.Core.Tests.Merkle;

// Goal: MerkleProofNodes returns the node IDs transparency-dev/merkle proof/proof_test.go expects, only ever
// names perfect subtrees inside the tree, and validates its arguments; ProofNodes.Rehash validates its input.
// Method: literal node-ID tables, plus an exhaustive sweep of the "perfect and inside" property for small trees.
public sealed class MerkleProofNodesTests
{
    [Fact]
    public void Inclusion_Index81Size95_MatchesTransparencyDevNodeIds()
    {
        var nodes = MerkleProofNodes.Inclusion(81, 95);
        NodeId[] expected = [new(0, 80), new(1, 41), new(2, 21), new(0, 94), new(1, 46), new(2, 22), new(4, 4),
            new(6, 0)];
        Assert.Equal(expected, nodes.Ids);
        Assert.Equal(6, nodes.Rehash([.. expected.Select(_ => new byte[32])]).Length);
    }

    [Fact]
    public void Consistency_81To95_MatchesTransparencyDevNodeIds()
    {
        var nodes = MerkleProofNodes.Consistency(81, 95);
        NodeId[] expected = [new(0, 80), new(0, 81), new(1, 41), new(2, 21), new(0, 94), new(1, 46), new(2, 22),
            new(4, 4), new(6, 0)];
        Assert.Equal(expected, nodes.Ids);
        Assert.Equal(7, nodes.Rehash([.. expected.Select(_ => new byte[32])]).Length);
    }

    [Fact]
    public void Rehash_EphemeralBlock_FoldsLowerLevelsFirst()
    {
        // Inclusion(0, 7) = [leaf 1, N(2..3), {N(4..5), leaf 6}]: the block must become H(N(4..5), leaf 6) = l.
        var nodes = MerkleProofNodes.Inclusion(0, 7);
        Assert.Equal([new NodeId(0, 1), new NodeId(1, 1), new NodeId(0, 6), new NodeId(1, 2)], nodes.Ids);
        var leaves = MerkleVectors.LeafHashes(7);
        var proof = nodes.Rehash([.. nodes.Ids.Select(id => Reference.NodeHash(leaves, id.Level, id.Index))]);
        HashAssert.Equal(Convert.FromHexString(MerkleVectors.SevenLeafNodeL), proof[2], "node l");
    }

    [Fact]
    public void InclusionAndConsistency_EverySmallTree_NameOnlyPerfectSubtreesInsideTheTree()
    {
        for (long size = 1; size <= 70; size++)
        {
            for (long i = 0; i < size; i++)
            {
                AssertInside(MerkleProofNodes.Inclusion(i, size), size, $"Inclusion({i}, {size})");
                AssertInside(MerkleProofNodes.Consistency(i + 1, size), size, $"Consistency({i + 1}, {size})");
            }
        }
    }

    [Fact]
    public void Inclusion_LargeTree_HasLogarithmicLength()
    {
        long size = (1L << 62) + 12345;
        var nodes = MerkleProofNodes.Inclusion(size - 1, size);
        Assert.InRange(nodes.Ids.Count, 1, 63);
        AssertInside(nodes, size, "huge tree");
    }

    [Theory]
    [InlineData(-1, 5)]
    [InlineData(5, 5)]
    [InlineData(0, 0)]
    public void Inclusion_IndexOutOfRange_ThrowsArgumentOutOfRange(long index, long size)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofNodes.Inclusion(index, size));
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(-1, 5)]
    [InlineData(6, 5)]
    public void Consistency_SizesOutOfRange_ThrowsArgumentOutOfRange(long size1, long size2)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleProofNodes.Consistency(size1, size2));
    }

    [Fact]
    public void Consistency_EqualSizes_IsEmpty()
    {
        var nodes = MerkleProofNodes.Consistency(9, 9);
        Assert.Empty(nodes.Ids);
        Assert.Empty(nodes.Rehash([]));
    }

    [Fact]
    public void Rehash_WrongCountOrLength_ThrowsArgumentException()
    {
        var nodes = MerkleProofNodes.Inclusion(0, 7);
        Assert.Throws<ArgumentException>(() => nodes.Rehash([new byte[32]]));
        Assert.Throws<ArgumentException>(() => nodes.Rehash([new byte[32], new byte[32], new byte[32], new byte[3]]));
        Assert.Throws<ArgumentNullException>(() => nodes.Rehash([new byte[32], new byte[32], new byte[32], null!]));
    }

    private static void AssertInside(ProofNodes nodes, long size, string context)
    {
        foreach (var id in nodes.Ids)
        {
            Assert.True(id.Level is >= 0 and < 63 && id.Index >= 0, $"{context}: bad node {id}");
            long end = (id.Index + 1) << id.Level;
            Assert.True(end > 0 && end <= size, $"{context}: node {id} reaches leaf {end} > {size}");
        }
    }
}
