using Tallystick.Merkle;

namespace Tallystick.Core.Tests.Merkle;

// Goal: a CompactRange can be persisted and restored mid-stream, never mutates hashes it has handed out, and
// rejects inconsistent state. Method: append, snapshot Hashes, restore with FromHashes, keep appending, and
// compare roots with an uninterrupted range; malformed restores are checked by expected exception.
public sealed class CompactRangeTests
{
    [Fact]
    public void FromHashes_RestoredMidStream_ContinuesLikeUninterruptedRange()
    {
        var leaves = Enumerable.Range(0, 50).Select(i => Reference.Leaf([(byte)i])).ToArray();
        for (int cut = 0; cut <= leaves.Length; cut += 7)
        {
            var first = new CompactRange();
            foreach (var leaf in leaves[..cut])
            {
                first.Append(leaf);
            }
            var restored = CompactRange.FromHashes(first.Size, [.. first.Hashes]);
            foreach (var leaf in leaves[cut..])
            {
                restored.Append(leaf);
            }
            HashAssert.Equal(Reference.Mth(leaves), restored.Root(), $"restored at {cut}");
        }
    }

    [Fact]
    public void Append_AfterHashesWereRead_DoesNotChangeArraysAlreadyHandedOut()
    {
        var range = new CompactRange();
        range.Append(Reference.Leaf([1]));
        var snapshot = range.Hashes[0];
        var copy = (byte[])snapshot.Clone();
        range.Append(Reference.Leaf([2]));
        range.Append(Reference.Leaf([3]));
        range.Append(Reference.Leaf([4]));
        HashAssert.Equal(copy, snapshot, "handed-out hash");
        Assert.Single(range.Hashes);
    }

    [Fact]
    public void Root_CalledTwice_ReturnsFreshEqualArrays()
    {
        var range = new CompactRange();
        range.Append(Reference.Leaf([1]));
        var first = range.Root();
        first[0] ^= 1;
        HashAssert.Equal(Reference.Leaf([1]), range.Root(), "root not aliased");
        HashAssert.Equal(Reference.Leaf([1]), range.Hashes[0], "state not aliased");
    }

    [Fact]
    public void FromHashes_CountNotPopcountOfSize_ThrowsArgumentException()
    {
        var hash = new byte[Rfc6962.HashSize];
        var e = Assert.Throws<ArgumentException>(() => CompactRange.FromHashes(6, [hash]));
        Assert.Contains("size 6 needs 2 subtree hashes, got 1", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => CompactRange.FromHashes(0, [hash]));
    }

    [Fact]
    public void FromHashes_InvalidInput_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CompactRange.FromHashes(-1, []));
        Assert.Throws<ArgumentException>(() => CompactRange.FromHashes(1, [new byte[31]]));
        Assert.Throws<ArgumentNullException>(() => CompactRange.FromHashes(1, [null!]));
    }

    [Fact]
    public void FromHashes_CallerModifiesInputAfterwards_RangeUnaffected()
    {
        var hash = Reference.Leaf([9]);
        var range = CompactRange.FromHashes(1, [hash]);
        hash[0] ^= 1;
        HashAssert.Equal(Reference.Leaf([9]), range.Root(), "input copied");
    }

    [Fact]
    public void Append_WrongLength_ThrowsArgumentException()
    {
        var range = new CompactRange();
        Assert.Throws<ArgumentException>(() => range.Append(new byte[33]));
        Assert.Equal(0, range.Size);
    }
}
