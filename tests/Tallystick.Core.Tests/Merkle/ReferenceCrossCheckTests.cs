using System.Globalization;
using Tallystick.Merkle;

namespace Tallystick.Core.Tests.Merkle;

// Goal: every fast algorithm (MerkleTree, MerkleProofNodes + Rehash, CompactRange) agrees with the literal
// RFC 6962 reference, and every proof it generates verifies. Method: exhaustive for sizes 0..130 (every index and
// every size1), then a seeded random sample of larger sizes; the seed is in every failure message and can be
// replaced through the TALLYSTICK_TEST_SEED environment variable to reproduce or widen a run.
public sealed class ReferenceCrossCheckTests
{
    private const int ExhaustiveSizeMax = 130;
    private const int DefaultSeed = 6962;
    private const int RandomSizes = 12;
    private const int RandomSizeMax = 3000;
    private const int ProbesPerSize = 16;

    private static readonly int Seed = ReadSeed();

    [Fact]
    public void Roots_EverySizeUpTo130_MatchReference()
    {
        var leaves = Leaves(ExhaustiveSizeMax);
        var range = new CompactRange();
        for (int size = 0; size <= ExhaustiveSizeMax; size++)
        {
            var prefix = leaves[..size];
            var expected = Reference.Mth(prefix);
            HashAssert.Equal(expected, MerkleTree.RootFromLeafHashes(prefix), $"MerkleTree size {size}");
            HashAssert.Equal(expected, range.Root(), $"CompactRange size {size}");
            HashAssert.Equal(PerfectSubtreeRoots(prefix), range.Hashes, $"CompactRange.Hashes size {size}");
            HashAssert.Equal(expected, CompactRange.FromHashes(size, range.Hashes).Root(), $"restored size {size}");
            if (size < ExhaustiveSizeMax)
            {
                range.Append(leaves[size]);
            }
        }
    }

    [Fact]
    public void InclusionProofs_EveryIndexOfEverySizeUpTo130_MatchReferenceAndVerify()
    {
        var leaves = Leaves(ExhaustiveSizeMax);
        for (int size = 1; size <= ExhaustiveSizeMax; size++)
        {
            var prefix = leaves[..size];
            var root = Reference.Mth(prefix);
            for (int index = 0; index < size; index++)
            {
                CheckInclusion(prefix, root, index, $"exhaustive, index {index}, size {size}");
            }
        }
    }

    [Fact]
    public void ConsistencyProofs_EverySize1OfEverySizeUpTo130_MatchReferenceAndVerify()
    {
        var leaves = Leaves(ExhaustiveSizeMax);
        var roots = Enumerable.Range(0, ExhaustiveSizeMax + 1).Select(n => Reference.Mth(leaves[..n])).ToArray();
        for (int size2 = 1; size2 <= ExhaustiveSizeMax; size2++)
        {
            var prefix = leaves[..size2];
            for (int size1 = 1; size1 <= size2; size1++)
            {
                CheckConsistency(prefix, roots[size1], roots[size2], size1, $"exhaustive, {size1} -> {size2}");
            }
        }
    }

    [Fact]
    public void AllAlgorithms_RandomLargerSizes_MatchReferenceAndVerify()
    {
        var random = new Random(Seed);
        int[] sizes =
        [
            255, 256, 257, 1023, 1024, 1025,
            .. Enumerable.Range(0, RandomSizes).Select(_ => random.Next(ExhaustiveSizeMax + 1, RandomSizeMax)),
        ];
        var leaves = Leaves(sizes.Max());
        var range = new CompactRange();
        foreach (int size in sizes.Order())
        {
            while (range.Size < size)
            {
                range.Append(leaves[range.Size]);
            }
            var prefix = leaves[..size];
            var root = Reference.Mth(prefix);
            string context = $"seed {Seed}, size {size}";
            HashAssert.Equal(root, range.Root(), $"{context}, CompactRange");
            HashAssert.Equal(root, MerkleTree.RootFromLeafHashes(prefix), $"{context}, MerkleTree");
            for (int probe = 0; probe < ProbesPerSize; probe++)
            {
                int index = random.Next(size);
                CheckInclusion(prefix, root, index, $"{context}, index {index}");
                int size1 = random.Next(1, size + 1);
                CheckConsistency(prefix, Reference.Mth(leaves[..size1]), root, size1, $"{context}, size1 {size1}");
            }
        }
    }

    private static void CheckInclusion(byte[][] leaves, byte[] root, int index, string context)
    {
        var expected = Reference.Path(index, leaves);
        HashAssert.Equal(expected, MerkleTree.InclusionPath(leaves, index), $"{context}: MerkleTree");

        var nodes = MerkleProofNodes.Inclusion(index, leaves.Length);
        var fromNodes = nodes.Rehash([.. nodes.Ids.Select(id => Reference.NodeHash(leaves, id.Level, id.Index))]);
        HashAssert.Equal(expected, fromNodes, $"{context}: ProofNodes");

        HashAssert.Valid(MerkleProof.VerifyInclusion(index, leaves.Length, leaves[index], fromNodes, root), context);
        HashAssert.Equal(root, MerkleProof.RootFromInclusionProof(index, leaves.Length, leaves[index], fromNodes),
            $"{context}: RootFromInclusionProof");
        var otherLeaf = leaves[(index + 1) % leaves.Length];
        if (leaves.Length > 1)
        {
            HashAssert.Invalid(MerkleProof.VerifyInclusion(index, leaves.Length, otherLeaf, fromNodes, root),
                $"{context}: other leaf");
        }
    }

    private static void CheckConsistency(byte[][] leaves, byte[] root1, byte[] root2, int size1, string context)
    {
        var expected = Reference.Proof(size1, leaves);
        HashAssert.Equal(expected, MerkleTree.ConsistencyProof(leaves, size1), $"{context}: MerkleTree");

        var nodes = MerkleProofNodes.Consistency(size1, leaves.Length);
        var fromNodes = nodes.Rehash([.. nodes.Ids.Select(id => Reference.NodeHash(leaves, id.Level, id.Index))]);
        HashAssert.Equal(expected, fromNodes, $"{context}: ProofNodes");

        HashAssert.Valid(MerkleProof.VerifyConsistency(size1, leaves.Length, root1, root2, fromNodes), context);
        if (size1 < leaves.Length)
        {
            var wrongRoot1 = (byte[])root1.Clone();
            wrongRoot1[^1] ^= 1;
            HashAssert.Invalid(MerkleProof.VerifyConsistency(size1, leaves.Length, wrongRoot1, root2, fromNodes),
                $"{context}: wrong root1");
        }
    }

    // The subtrees a compact range must hold: one per set bit of the size, largest (leftmost) first.
    private static List<byte[]> PerfectSubtreeRoots(byte[][] leaves)
    {
        var roots = new List<byte[]>();
        int start = 0;
        for (int bit = 30; bit >= 0; bit--)
        {
            int width = 1 << bit;
            if ((leaves.Length & width) != 0)
            {
                roots.Add(Reference.Mth(leaves, start, start + width));
                start += width;
            }
        }
        return roots;
    }

    private static byte[][] Leaves(int count) =>
        [.. Enumerable.Range(0, count).Select(i => Reference.Leaf(BitConverter.GetBytes(i)))];

    private static int ReadSeed()
    {
        var text = Environment.GetEnvironmentVariable("TALLYSTICK_TEST_SEED");
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed)
            ? seed
            : DefaultSeed;
    }
}
