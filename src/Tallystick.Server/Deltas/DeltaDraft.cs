using System.Buffers;
using System.Text;

namespace Tallystick.Server.Deltas;

/// <summary>A validated delta, not yet sequenced. Only <see cref="EmitParser"/> creates these.</summary>
internal sealed record DeltaDraft(string CustomerId, Amount Amount, string Reason, string? ReferenceId, string? MetadataJson)
{
    /// <summary>True when two drafts record the same content (used for repeated referenceIds).</summary>
    public bool SameContentAs(DeltaDraft other) =>
        Amount == other.Amount && string.Equals(Reason, other.Reason, StringComparison.Ordinal) &&
        string.Equals(MetadataJson, other.MetadataJson, StringComparison.Ordinal);
}

/// <summary>One parsed batch item: a draft, or the error that refused it.</summary>
internal readonly record struct ParsedItem(DeltaDraft? Draft, ApiError? Error, string? CustomerId, Amount? Amount);

/// <summary>
/// The semantic fingerprint of a request, for Idempotency-Key: the same key with a different fingerprint is a
/// 409. Built from the validated values (exact decimals), so whitespace or member order do not matter and two
/// amounts that a double would conflate stay distinct.
/// </summary>
internal static class RequestFingerprint
{
    public static byte[] Compute(string endpoint, IReadOnlyList<ParsedItem> items)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Append(buffer, endpoint);
        foreach (var item in items)
        {
            if (item.Draft is { } d)
            {
                Append(buffer, "ok");
                Append(buffer, d.CustomerId);
                Append(buffer, d.Amount.ToString());
                Append(buffer, d.Reason);
                Append(buffer, d.ReferenceId ?? "\u0000none");
                Append(buffer, d.MetadataJson ?? "\u0000none");
            }
            else
            {
                Append(buffer, "error");
                Append(buffer, item.Error!.Code);
                Append(buffer, item.Error.Field ?? "");
            }
        }
        return Tallystick.Merkle.Sha256.Hash(buffer.WrittenSpan);
    }

    private static void Append(ArrayBufferWriter<byte> buffer, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var length = buffer.GetSpan(4);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
        buffer.Advance(4);
        buffer.Write(bytes);
    }
}
