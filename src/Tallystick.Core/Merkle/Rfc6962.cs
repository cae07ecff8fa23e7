using System.Buffers;

namespace Tallystick.Merkle;

/// <summary>
/// The RFC 6962 / RFC 9162 §2.1.1 hash functions over SHA-256: a leaf is hashed as
/// <c>SHA-256(0x00 || data)</c> and an interior node as <c>SHA-256(0x01 || left || right)</c>. The distinct
/// prefixes stop a leaf from being passed off as an interior node (second-preimage attack). All members are
/// stateless and thread-safe.
/// </summary>
public static class Rfc6962
{
    /// <summary>The length in bytes of every hash produced here (SHA-256).</summary>
    public const int HashSize = 32;

    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    // Inputs up to this many bytes are assembled on the stack; larger ones borrow a pooled array, so no
    // input size allocates on the heap per call.
    private const int StackBufferMax = 512;

    /// <summary>Computes the leaf hash <c>SHA-256(0x00 || data)</c> into a new 32-byte array.</summary>
    /// <param name="data">The leaf's bytes; may be empty (the result is then <c>SHA-256(0x00)</c>, not the empty
    /// root).</param>
    /// <returns>A fresh array of <see cref="HashSize"/> bytes.</returns>
    public static byte[] HashLeaf(ReadOnlySpan<byte> data)
    {
        var hash = new byte[HashSize];
        HashLeaf(data, hash);
        return hash;
    }

    /// <summary>Computes the leaf hash <c>SHA-256(0x00 || data)</c> into <paramref name="destination"/> without
    /// allocating on the heap.</summary>
    /// <param name="data">The leaf's bytes; may be empty and may overlap <paramref name="destination"/>.</param>
    /// <param name="destination">Receives the hash in its first <see cref="HashSize"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than
    /// <see cref="HashSize"/>.</exception>
    public static void HashLeaf(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        RequireDestination(destination);
        HashPrefixed(LeafPrefix, data, [], destination);
    }

    /// <summary>Computes the interior node hash <c>SHA-256(0x01 || left || right)</c> into a new 32-byte
    /// array.</summary>
    /// <param name="left">The left child's hash. Its length is not checked (the primitive hashes any bytes).</param>
    /// <param name="right">The right child's hash. Its length is not checked either.</param>
    /// <returns>A fresh array of <see cref="HashSize"/> bytes.</returns>
    public static byte[] HashChildren(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        var hash = new byte[HashSize];
        HashChildren(left, right, hash);
        return hash;
    }

    /// <summary>Computes the interior node hash <c>SHA-256(0x01 || left || right)</c> into
    /// <paramref name="destination"/> without allocating on the heap.</summary>
    /// <param name="left">The left child's hash; may overlap <paramref name="destination"/>.</param>
    /// <param name="right">The right child's hash; may overlap <paramref name="destination"/>, which makes
    /// in-place chaining (<c>acc = H(sibling, acc)</c>) safe.</param>
    /// <param name="destination">Receives the hash in its first <see cref="HashSize"/> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than
    /// <see cref="HashSize"/>.</exception>
    public static void HashChildren(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        RequireDestination(destination);
        HashPrefixed(NodePrefix, left, right, destination);
    }

    /// <summary>Returns the root of the empty tree, <c>SHA-256("")</c> (RFC 6962 <c>MTH({})</c>).</summary>
    /// <returns>A fresh array each call, so callers may keep or modify it.</returns>
    public static byte[] EmptyRoot() => Sha256.Hash(ReadOnlySpan<byte>.Empty);

    private static void RequireDestination(Span<byte> destination)
    {
        if (destination.Length < HashSize)
        {
            throw new ArgumentException(
                $"destination has {destination.Length} bytes, need at least {HashSize}", nameof(destination));
        }
    }

    // The preimage is copied into one buffer before hashing, so destination may alias either input.
    private static void HashPrefixed(byte prefix, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second,
        Span<byte> destination)
    {
        int length = checked(1 + first.Length + second.Length);
        byte[]? rented = null;
        Span<byte> buffer = length <= StackBufferMax
            ? stackalloc byte[length]
            : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            buffer[0] = prefix;
            first.CopyTo(buffer[1..]);
            second.CopyTo(buffer[(1 + first.Length)..]);
            Sha256.Hash(buffer[..length], destination);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
