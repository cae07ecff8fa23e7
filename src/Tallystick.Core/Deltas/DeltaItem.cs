using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Tallystick.Canonical;
using Tallystick.Merkle;

namespace Tallystick.Deltas;

/// <summary>
/// The fingerprinted form of one accepted delta: the exact bytes that are hashed into <c>itemHash</c>.
/// Specified in docs/proof-spec.md ("Item bytes"); golden files pin every byte.
/// </summary>
/// <remarks>
/// The bytes are an RFC 8785 (JCS) JSON object with exactly these members, in this order:
/// <c>amount</c> (canonical decimal text, see <see cref="Amount.ToString"/>), <c>customer</c> (the keyed
/// customer reference, never the raw id), <c>metadata</c> (canonical JSON object, omitted when absent),
/// <c>reason</c>, <c>receivedAt</c> (ISO 8601 UTC, milliseconds), <c>referenceId</c> (omitted when absent),
/// <c>salt</c> (32 lowercase hex digits: 16 random bytes, so amounts cannot be guessed from public hashes),
/// <c>sequence</c> (the per-customer sequence number, 0-based) and <c>v</c> (the format version).
/// </remarks>
public sealed record DeltaItem(
    Amount Amount,
    string CustomerReference,
    string? MetadataJson,
    string Reason,
    long ReceivedAtUnixMs,
    string? ReferenceId,
    byte[] Salt,
    long Sequence)
{
    /// <summary>The value of the <c>v</c> member for this format.</summary>
    public const string FormatVersion = "tallystick.delta.v1";

    /// <summary>Bytes of salt per item.</summary>
    public const int SaltBytes = 16;

    /// <summary>Writes the canonical item bytes. <see cref="MetadataJson"/> must already be canonical JSON.</summary>
    public void WriteCanonical(IBufferWriter<byte> output)
    {
        if (Salt.Length != SaltBytes)
        {
            throw new InvalidOperationException($"salt has {Salt.Length} bytes, want {SaltBytes}");
        }
        WriteRaw(output, "{\"amount\":");
        JsonCanonicalizer.WriteString(Amount.ToString(), output);
        WriteRaw(output, ",\"customer\":");
        JsonCanonicalizer.WriteString(CustomerReference, output);
        if (MetadataJson is not null)
        {
            WriteRaw(output, ",\"metadata\":");
            WriteRaw(output, MetadataJson);
        }
        WriteRaw(output, ",\"reason\":");
        JsonCanonicalizer.WriteString(Reason, output);
        WriteRaw(output, ",\"receivedAt\":");
        JsonCanonicalizer.WriteString(Timestamps.Format(ReceivedAtUnixMs), output);
        if (ReferenceId is not null)
        {
            WriteRaw(output, ",\"referenceId\":");
            JsonCanonicalizer.WriteString(ReferenceId, output);
        }
        WriteRaw(output, ",\"salt\":\"");
        WriteRaw(output, Convert.ToHexStringLower(Salt));
        WriteRaw(output, "\",\"sequence\":");
        WriteRaw(output, Sequence.ToString(CultureInfo.InvariantCulture));
        WriteRaw(output, ",\"v\":\"" + FormatVersion + "\"}");
    }

    /// <summary>The canonical item bytes as a new array.</summary>
    public byte[] ToCanonicalBytes()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteCanonical(buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary><c>itemHash</c> = RFC 6962 leaf hash of the canonical bytes: SHA-256(0x00 ‖ bytes).</summary>
    public byte[] ItemHash()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteCanonical(buffer);
        return Rfc6962.HashLeaf(buffer.WrittenSpan);
    }

    private static void WriteRaw(IBufferWriter<byte> output, string ascii)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(ascii.Length));
        var written = Encoding.UTF8.GetBytes(ascii, span);
        output.Advance(written);
    }
}

/// <summary>
/// The transparency-log entry that anchors one receipt. Specified in docs/proof-spec.md ("Log entries").
/// </summary>
/// <remarks>
/// <c>entry = 0x01 ‖ uint64-be(acceptedAtUnixMs) ‖ SHA-256("tallystick/receipt-commitment/v1\n" ‖ receiptRoot)</c>
/// (41 bytes). The public log carries only this one-way commitment to the receipt root, never the root itself,
/// because a receipt root is a read capability.
/// </remarks>
public static class ReceiptLogEntry
{
    /// <summary>The entry type byte for receipt commitments.</summary>
    public const byte TypeReceipt = 0x01;

    /// <summary>Length in bytes of a receipt entry.</summary>
    public const int Length = 1 + 8 + 32;

    /// <summary>The domain-separation prefix hashed before the receipt root.</summary>
    public static ReadOnlySpan<byte> CommitmentPrefix => "tallystick/receipt-commitment/v1\n"u8;

    /// <summary>Builds the entry. <paramref name="receiptRoot"/> must be 32 bytes.</summary>
    public static byte[] Create(ReadOnlySpan<byte> receiptRoot, long acceptedAtUnixMs)
    {
        if (receiptRoot.Length != Rfc6962.HashSize)
        {
            throw new ArgumentException($"receipt root has {receiptRoot.Length} bytes, want 32", nameof(receiptRoot));
        }
        var entry = new byte[Length];
        entry[0] = TypeReceipt;
        BinaryPrimitives.WriteInt64BigEndian(entry.AsSpan(1, 8), acceptedAtUnixMs);
        Commitment(receiptRoot, entry.AsSpan(9, 32));
        return entry;
    }

    /// <summary>Writes SHA-256(prefix ‖ receiptRoot) into <paramref name="destination"/> (32 bytes).</summary>
    public static void Commitment(ReadOnlySpan<byte> receiptRoot, Span<byte> destination)
    {
        Span<byte> preimage = stackalloc byte[CommitmentPrefix.Length + Rfc6962.HashSize];
        CommitmentPrefix.CopyTo(preimage);
        receiptRoot.CopyTo(preimage[CommitmentPrefix.Length..]);
        Merkle.Sha256.Hash(preimage, destination);
    }
}
