using System.Text;
using Tallystick.Merkle;

namespace Tallystick.Core.Tests.Merkle;

// Goal: the RFC 6962 hash primitives produce the published transparency-dev vectors (test-vectors.md §1.1–§1.2).
// Method: compare both the allocating and the span overloads with the hex literals, and check the span contract
// (short destination rejected, aliasing allowed, inputs larger than the stack buffer).
public sealed class Rfc6962Tests
{
    [Fact]
    public void EmptyRoot_Always_IsSha256OfNothing()
    {
        HashAssert.Equal(Convert.FromHexString(MerkleVectors.EmptyRootHex), Rfc6962.EmptyRoot(), "empty root");
    }

    [Fact]
    public void EmptyRoot_CallerModifiesResult_NextCallUnaffected()
    {
        var first = Rfc6962.EmptyRoot();
        first[0] ^= 0xff;
        HashAssert.Equal(Convert.FromHexString(MerkleVectors.EmptyRootHex), Rfc6962.EmptyRoot(), "fresh copy");
    }

    [Theory]
    [InlineData("", "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")]
    [InlineData("4c313233343536", "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")]
    public void HashLeaf_PublishedVector_MatchesExpected(string dataHex, string expectedHex)
    {
        var data = Convert.FromHexString(dataHex);
        HashAssert.Equal(Convert.FromHexString(expectedHex), Rfc6962.HashLeaf(data), "allocating");
        Span<byte> destination = stackalloc byte[Rfc6962.HashSize];
        Rfc6962.HashLeaf(data, destination);
        HashAssert.Equal(Convert.FromHexString(expectedHex), destination, "span");
    }

    [Fact]
    public void HashLeaf_EmptyLeaf_DiffersFromEmptyRoot()
    {
        Assert.NotEqual(Rfc6962.EmptyRoot(), Rfc6962.HashLeaf([]));
    }

    [Fact]
    public void HashLeaf_StandardLeaves_MatchPublishedLeafHashes()
    {
        for (int i = 0; i < MerkleVectors.LeafDataHex.Length; i++)
        {
            var hash = Rfc6962.HashLeaf(Convert.FromHexString(MerkleVectors.LeafDataHex[i]));
            HashAssert.Equal(Convert.FromHexString(MerkleVectors.LeafHashHex[i]), hash, $"leaf {i}");
            Assert.Equal(MerkleVectors.LeafHashBase64[i], Convert.ToBase64String(hash));
        }
    }

    [Fact]
    public void HashChildren_PublishedVector_MatchesExpected()
    {
        var expected = Convert.FromHexString("aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb");
        var left = Encoding.ASCII.GetBytes("N123");
        var right = Encoding.ASCII.GetBytes("N456");
        HashAssert.Equal(expected, Rfc6962.HashChildren(left, right), "allocating");
        Span<byte> destination = stackalloc byte[Rfc6962.HashSize];
        Rfc6962.HashChildren(left, right, destination);
        HashAssert.Equal(expected, destination, "span");
    }

    [Fact]
    public void HashChildren_StandardLeaves_MatchPublishedInteriorNodes()
    {
        var leaves = MerkleVectors.LeafHashes(8);
        var pair0 = Rfc6962.HashChildren(leaves[0], leaves[1]);
        var pair1 = Rfc6962.HashChildren(leaves[2], leaves[3]);
        var pair2 = Rfc6962.HashChildren(leaves[4], leaves[5]);
        var pair3 = Rfc6962.HashChildren(leaves[6], leaves[7]);
        HashAssert.Equal(Convert.FromHexString(MerkleVectors.Level1Pair0), pair0, "level1[0]");
        HashAssert.Equal(Convert.FromHexString(MerkleVectors.Level1Pair1), pair1, "level1[1]");
        HashAssert.Equal(Convert.FromHexString(MerkleVectors.Level1Pair2), pair2, "level1[2]");
        HashAssert.Equal(Convert.FromHexString(MerkleVectors.Level1Pair3), pair3, "level1[3]");
        var quad0 = Rfc6962.HashChildren(pair0, pair1);
        var quad1 = Rfc6962.HashChildren(pair2, pair3);
        HashAssert.Equal(Convert.FromHexString(MerkleVectors.Level2Quad0), quad0, "level2[0]");
        HashAssert.Equal(Convert.FromHexString(MerkleVectors.Level2Quad1), quad1, "level2[1]");
        HashAssert.Equal(Convert.FromHexString(MerkleVectors.Level3Root), Rfc6962.HashChildren(quad0, quad1), "root");
    }

    [Fact]
    public void HashChildren_DestinationAliasesRight_ComputesFromOriginalInputs()
    {
        var left = MerkleVectors.LeafHashes(2)[0];
        var acc = MerkleVectors.LeafHashes(2)[1];
        var expected = Rfc6962.HashChildren(left, acc);
        Rfc6962.HashChildren(left, acc, acc);
        HashAssert.Equal(expected, acc, "in place");
    }

    [Fact]
    public void HashLeaf_InputLargerThanStackBuffer_MatchesReference()
    {
        var data = new byte[100_000];
        new Random(6962).NextBytes(data);
        HashAssert.Equal(Reference.Leaf(data), Rfc6962.HashLeaf(data), "large leaf");
    }

    [Fact]
    public void HashChildren_InputsLargerThanStackBuffer_MatchesConcatenatedPreimage()
    {
        var left = Enumerable.Repeat((byte)0xaa, 400).ToArray();
        var right = Enumerable.Repeat((byte)0xbb, 400).ToArray();
        var expected = System.Security.Cryptography.SHA256.HashData([0x01, .. left, .. right]);
        HashAssert.Equal(expected, Rfc6962.HashChildren(left, right), "large children");
    }

    [Fact]
    public void HashLeaf_DestinationTooShort_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => Rfc6962.HashLeaf([1, 2, 3], new byte[31]));
        Assert.Throws<ArgumentException>(() => Rfc6962.HashChildren([1], [2], new byte[16]));
    }
}
