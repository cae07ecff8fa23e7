using System.Numerics;

namespace Tallystick.Merkle;

/// <summary>
/// Verifies RFC 9162 §2.1.3.2 inclusion proofs and §2.1.4.2 consistency proofs against signed roots
/// (port of transparency-dev/merkle <c>proof/verify.go</c>). These methods are meant for untrusted input:
/// the <c>Verify*</c> methods never throw on a bad proof and instead return a result naming the first check
/// that failed. Every hash (leaf, root, proof element) must be exactly <see cref="Rfc6962.HashSize"/> bytes.
/// All members are pure and thread-safe.
/// </summary>
public static class MerkleProof
{
    /// <summary>Checks that <paramref name="leafHash"/> is the leaf at <paramref name="index"/> of the tree of
    /// <paramref name="size"/> leaves whose root is <paramref name="root"/>.</summary>
    /// <param name="index">The 0-based leaf index; the proof is invalid unless <c>0 &lt;= index &lt; size</c>.</param>
    /// <param name="size">The tree size the root was published for.</param>
    /// <param name="leafHash">The RFC 6962 leaf hash (not the raw leaf data).</param>
    /// <param name="proof">The audit path, ordered from the leaf upward.</param>
    /// <param name="root">The trusted root hash for <paramref name="size"/>.</param>
    /// <returns>Valid, or invalid with a reason such as <c>"wrong proof size 2, want 3"</c> or
    /// <c>"root mismatch: calculated 0x…, expected 0x…"</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="proof"/> is null (a caller bug, not a bad
    /// proof).</exception>
    public static VerificationResult VerifyInclusion(
        long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        ArgumentNullException.ThrowIfNull(proof);
        string? error = CheckInclusionInput(index, size, leafHash, proof) ?? CheckHash("root", root);
        if (error is not null)
        {
            return VerificationResult.Invalid(error);
        }
        var calculated = ChainInclusion((ulong)index, (ulong)size, leafHash, proof);
        return Match(calculated, root);
    }

    /// <summary>Computes the root that the inclusion proof implies for the tree of <paramref name="size"/> leaves,
    /// for callers that look the root up afterwards. Requires <c>0 &lt;= index &lt; size</c>.</summary>
    /// <param name="index">The 0-based leaf index.</param>
    /// <param name="size">The tree size the proof is relative to.</param>
    /// <param name="leafHash">The 32-byte RFC 6962 leaf hash.</param>
    /// <param name="proof">The audit path, ordered from the leaf upward; each element 32 bytes.</param>
    /// <returns>A fresh 32-byte root hash. A correct result only proves anything once compared to a trusted
    /// root.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="proof"/> is null.</exception>
    /// <exception cref="ProofException">The index is out of range, a hash has the wrong length, or the proof has
    /// the wrong number of elements; the message says which and what was expected.</exception>
    public static byte[] RootFromInclusionProof(
        long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        string? error = CheckInclusionInput(index, size, leafHash, proof);
        if (error is not null)
        {
            throw new ProofException(error);
        }
        return ChainInclusion((ulong)index, (ulong)size, leafHash, proof);
    }

    /// <summary>Checks that the tree of <paramref name="size2"/> leaves with root <paramref name="root2"/> is an
    /// append-only extension of the tree of <paramref name="size1"/> leaves with root
    /// <paramref name="root1"/>.</summary>
    /// <param name="size1">The older tree size; must satisfy <c>0 &lt;= size1 &lt;= size2</c>.</param>
    /// <param name="size2">The newer tree size.</param>
    /// <param name="root1">The trusted root for <paramref name="size1"/>.</param>
    /// <param name="root2">The trusted root for <paramref name="size2"/>.</param>
    /// <param name="proof">The RFC 6962 consistency proof. It must be empty when the sizes are equal (the roots
    /// must then match) and when <paramref name="size1"/> is 0 (every tree extends the empty tree).</param>
    /// <returns>Valid, or invalid with a reason naming the first failed check.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="proof"/> is null (a caller bug, not a bad
    /// proof).</exception>
    public static VerificationResult VerifyConsistency(
        long size1, long size2, ReadOnlySpan<byte> root1, ReadOnlySpan<byte> root2, IReadOnlyList<byte[]> proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        string? error = CheckConsistencyInput(size1, size2, root1, root2, proof);
        if (error is not null)
        {
            return VerificationResult.Invalid(error);
        }
        if (size1 == size2)
        {
            return Match(root1, root2);
        }
        if (size1 == 0)
        {
            return VerificationResult.Valid;
        }
        return VerifyConsistencyPath((ulong)size1, (ulong)size2, root1, root2, proof);
    }

    private static VerificationResult VerifyConsistencyPath(
        ulong size1, ulong size2, ReadOnlySpan<byte> root1, ReadOnlySpan<byte> root2, IReadOnlyList<byte[]> proof)
    {
        var (inner, border) = DecomposeInclusion(size1 - 1, size2);
        int shift = BitOperations.TrailingZeroCount(size1);
        inner -= shift; // shift < inner whenever size1 < size2.

        // The proof starts with the root of the largest perfect subtree ending at size1, unless that subtree is
        // the whole old tree; then the verifier already holds it as root1.
        bool seedIsRoot1 = BitOperations.IsPow2(size1);
        int start = seedIsRoot1 ? 0 : 1;
        if (proof.Count != start + inner + border)
        {
            return VerificationResult.Invalid($"wrong proof size {proof.Count}, want {start + inner + border}");
        }
        ReadOnlySpan<byte> seed = seedIsRoot1 ? root1 : proof[0];
        ulong mask = (size1 - 1) >> shift;

        Span<byte> hash1 = stackalloc byte[Rfc6962.HashSize];
        seed.CopyTo(hash1);
        for (int i = 0; i < inner; i++)
        {
            if (((mask >> i) & 1) == 1)
            {
                Rfc6962.HashChildren(proof[start + i], hash1, hash1);
            }
        }
        ChainBorderRight(hash1, proof, start + inner);
        if (!hash1.SequenceEqual(root1))
        {
            return VerificationResult.Invalid(
                $"root1 mismatch: calculated {Hex(hash1)}, expected {Hex(root1)}");
        }

        Span<byte> hash2 = stackalloc byte[Rfc6962.HashSize];
        seed.CopyTo(hash2);
        ChainInner(hash2, proof, start, inner, mask);
        ChainBorderRight(hash2, proof, start + inner);
        return Match(hash2, root2);
    }

    private static string? CheckInclusionInput(
        long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof)
    {
        if (index < 0)
        {
            return $"index is negative: {index}";
        }
        if (index >= size)
        {
            return $"index is beyond size: {index} >= {size}";
        }
        string? error = CheckHash("leafHash", leafHash) ?? CheckElements(proof);
        if (error is not null)
        {
            return error;
        }
        var (inner, border) = DecomposeInclusion((ulong)index, (ulong)size);
        return proof.Count == inner + border ? null : $"wrong proof size {proof.Count}, want {inner + border}";
    }

    private static string? CheckConsistencyInput(
        long size1, long size2, ReadOnlySpan<byte> root1, ReadOnlySpan<byte> root2, IReadOnlyList<byte[]> proof)
    {
        if (size1 < 0)
        {
            return $"size1 is negative: {size1}";
        }
        if (size2 < size1)
        {
            return $"size2 ({size2}) < size1 ({size1})";
        }
        string? error = CheckHash("root1", root1) ?? CheckHash("root2", root2) ?? CheckElements(proof);
        if (error is not null)
        {
            return error;
        }
        return (size1 == size2, size1 == 0, proof.Count == 0) switch
        {
            (true, _, false) => "size1=size2, but proof is not empty",
            (false, true, false) => $"expected empty proof from size 0, but got {proof.Count} components",
            (false, false, true) => "empty proof",
            _ => null,
        };
    }

    private static byte[] ChainInclusion(ulong index, ulong size, ReadOnlySpan<byte> leafHash,
        IReadOnlyList<byte[]> proof)
    {
        var (inner, _) = DecomposeInclusion(index, size);
        var hash = leafHash.ToArray();
        ChainInner(hash, proof, 0, inner, index);
        ChainBorderRight(hash, proof, inner);
        return hash;
    }

    // Below the fork with the right border, the bits of the index say on which side each sibling sits.
    private static void ChainInner(Span<byte> hash, IReadOnlyList<byte[]> proof, int start, int count, ulong index)
    {
        for (int i = 0; i < count; i++)
        {
            if (((index >> i) & 1) == 0)
            {
                Rfc6962.HashChildren(hash, proof[start + i], hash);
            }
            else
            {
                Rfc6962.HashChildren(proof[start + i], hash, hash);
            }
        }
    }

    // On the right border every remaining sibling is a left-hand subtree.
    private static void ChainBorderRight(Span<byte> hash, IReadOnlyList<byte[]> proof, int start)
    {
        for (int i = start; i < proof.Count; i++)
        {
            Rfc6962.HashChildren(proof[i], hash, hash);
        }
    }

    // Splits an inclusion proof at the level where the paths to `index` and to the last leaf diverge:
    // `inner` elements below it, then `border` elements along the right border.
    private static (int Inner, int Border) DecomposeInclusion(ulong index, ulong size)
    {
        int inner = 64 - BitOperations.LeadingZeroCount(index ^ (size - 1));
        int border = BitOperations.PopCount(index >> inner);
        return (inner, border);
    }

    private static string? CheckElements(IReadOnlyList<byte[]> proof)
    {
        for (int i = 0; i < proof.Count; i++)
        {
            if (proof[i] is null)
            {
                return $"proof[{i}] is null";
            }
            if (proof[i].Length != Rfc6962.HashSize)
            {
                return $"proof[{i}] has unexpected size {proof[i].Length}, want {Rfc6962.HashSize}";
            }
        }
        return null;
    }

    private static string? CheckHash(string name, ReadOnlySpan<byte> hash) =>
        hash.Length == Rfc6962.HashSize ? null : $"{name} has unexpected size {hash.Length}, want {Rfc6962.HashSize}";

    private static VerificationResult Match(ReadOnlySpan<byte> calculated, ReadOnlySpan<byte> expected) =>
        calculated.SequenceEqual(expected)
            ? VerificationResult.Valid
            : VerificationResult.Invalid($"root mismatch: calculated {Hex(calculated)}, expected {Hex(expected)}");

    private static string Hex(ReadOnlySpan<byte> hash) => "0x" + Convert.ToHexStringLower(hash);
}
