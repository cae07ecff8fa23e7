using Tallystick.Merkle;

namespace Tallystick.Core.Tests.Merkle;

// Goal: MerkleTree and CompactRange compute the published root of every prefix of the standard 8 leaves
// (test-vectors.md §1.3) and the published compact-range shapes, and reject malformed input.
// Method: table comparison in hex and base64; argument checks by expected exception.
public sealed class MerkleTreeTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void RootFromLeafHashes_StandardPrefix_MatchesPublishedRoot(int size)
    {
        var root = MerkleTree.RootFromLeafHashes(MerkleVectors.LeafHashes(size));
        HashAssert.Equal(MerkleVectors.Root(size), root, $"size {size}");
        Assert.Equal(MerkleVectors.RootBase64[size], Convert.ToBase64String(root));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8)]
    public void CompactRangeRoot_StandardPrefix_MatchesPublishedRoot(int size)
    {
        var range = new CompactRange();
        foreach (var leaf in MerkleVectors.LeafHashes(size))
        {
            range.Append(leaf);
        }
        Assert.Equal(size, range.Size);
        HashAssert.Equal(MerkleVectors.Root(size), range.Root(), $"size {size}");
    }

    [Fact]
    public void CompactRangeHashes_StandardPrefixes_MatchPublishedShapes()
    {
        var leaves = MerkleVectors.LeafHashHex;
        string[][] shapes =
        [
            [leaves[0]],
            [MerkleVectors.Level1Pair0],
            [MerkleVectors.Level1Pair0, leaves[2]],
            [MerkleVectors.Level2Quad0],
            [MerkleVectors.Level2Quad0, leaves[4]],
            [MerkleVectors.Level2Quad0, MerkleVectors.Level1Pair2],
            [MerkleVectors.Level2Quad0, MerkleVectors.Level1Pair2, leaves[6]],
            [MerkleVectors.Level3Root],
        ];
        var range = new CompactRange();
        Assert.Empty(range.Hashes);
        for (int size = 1; size <= 8; size++)
        {
            range.Append(Convert.FromHexString(leaves[size - 1]));
            HashAssert.Equal(MerkleVectors.Decode(shapes[size - 1]), range.Hashes, $"compact range of size {size}");
        }
    }

    [Fact]
    public void RootFromLeafHashes_LeafOfWrongLength_ThrowsArgumentException()
    {
        byte[][] leaves = [new byte[32], new byte[31]];
        var e = Assert.Throws<ArgumentException>(() => MerkleTree.RootFromLeafHashes(leaves));
        Assert.Contains("leafHashes[1] has 31 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RootFromLeafHashes_NullLeaf_ThrowsArgumentNullException()
    {
        byte[][] leaves = [new byte[32], null!];
        Assert.Throws<ArgumentNullException>(() => MerkleTree.RootFromLeafHashes(leaves));
    }
}
