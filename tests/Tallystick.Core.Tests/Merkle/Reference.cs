using System.Security.Cryptography;

namespace Tallystick.Core.Tests.Merkle;

// The test oracle: RFC 6962 §2.1 written out literally (recursive MTH, PATH, PROOF/SUBPROOF) over a list of
// already-hashed leaves. It is deliberately slow and independent of Tallystick.Merkle (its own SHA-256 calls),
// so a shared bug cannot make both agree.
internal static class Reference
{
    public static byte[] Mth(IReadOnlyList<byte[]> leafHashes) => Mth(leafHashes, 0, leafHashes.Count);

    // MTH(D[lo:hi]); for n = 1 the input is already the leaf hash.
    public static byte[] Mth(IReadOnlyList<byte[]> d, int lo, int hi)
    {
        int n = hi - lo;
        if (n == 0)
        {
            return SHA256.HashData(Array.Empty<byte>());
        }
        if (n == 1)
        {
            return d[lo];
        }
        int k = SplitPoint(n);
        return Node(Mth(d, lo, lo + k), Mth(d, lo + k, hi));
    }

    // PATH(m, D[n]): RFC 6962 §2.1.1.
    public static List<byte[]> Path(int m, IReadOnlyList<byte[]> d) => Path(m, d, 0, d.Count);

    // PROOF(m, D[n]) = SUBPROOF(m, D[n], true): RFC 6962 §2.1.2.
    public static List<byte[]> Proof(int m, IReadOnlyList<byte[]> d) => SubProof(m, d, 0, d.Count, true);

    // The hash of a perfect subtree, straight from its definition as the MTH of the leaves it covers.
    public static byte[] NodeHash(IReadOnlyList<byte[]> d, int level, long index)
    {
        long first = index << level;
        long last = (index + 1) << level;
        Assert.True(last <= d.Count, $"node ({level},{index}) reaches beyond the {d.Count} leaves");
        return Mth(d, (int)first, (int)last);
    }

    // The largest power of two strictly smaller than n (n > 1).
    public static int SplitPoint(int n)
    {
        int k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }
        return k;
    }

    public static byte[] Leaf(byte[] data) => SHA256.HashData([0x00, .. data]);

    private static byte[] Node(byte[] left, byte[] right) => SHA256.HashData([0x01, .. left, .. right]);

    private static List<byte[]> Path(int m, IReadOnlyList<byte[]> d, int lo, int hi)
    {
        int n = hi - lo;
        if (n == 1)
        {
            return [];
        }
        int k = SplitPoint(n);
        if (m < k)
        {
            var path = Path(m, d, lo, lo + k);
            path.Add(Mth(d, lo + k, hi));
            return path;
        }
        var right = Path(m - k, d, lo + k, hi);
        right.Add(Mth(d, lo, lo + k));
        return right;
    }

    private static List<byte[]> SubProof(int m, IReadOnlyList<byte[]> d, int lo, int hi, bool b)
    {
        int n = hi - lo;
        if (m == n)
        {
            return b ? [] : [Mth(d, lo, hi)];
        }
        int k = SplitPoint(n);
        if (m <= k)
        {
            var proof = SubProof(m, d, lo, lo + k, b);
            proof.Add(Mth(d, lo + k, hi));
            return proof;
        }
        var rest = SubProof(m - k, d, lo + k, hi, false);
        rest.Add(Mth(d, lo, lo + k));
        return rest;
    }
}
