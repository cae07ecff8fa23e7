using System.Security.Cryptography;
using System.Text;

namespace Tallystick.Server.Deltas;

/// <summary>
/// A customer's running state as the sequencer sees it: the next sequence number and the balance over all
/// accepted deltas. Owned by the sequencer thread only.
/// </summary>
internal sealed class CustomerState(long key, long planeId, string customerId, byte[] reference, long firstAt)
{
    public long Key { get; } = key;

    public long PlaneId { get; } = planeId;

    public string CustomerId { get; } = customerId;

    public byte[] Reference { get; } = reference;

    public long FirstAtUnixMs { get; } = firstAt;

    public long NextSeq { get; set; }

    public Amount Balance { get; set; }

    /// <summary>True until the transaction that created the customer commits.</summary>
    public bool IsNew { get; set; }

    public string ReferenceText => CustomerReference.Format(Reference);
}

/// <summary>
/// customerReference = first 20 bytes of HMAC-SHA256(plane key, "tallystick/customer-reference/v1\n" ‖ customerId),
/// written <c>0x</c> + 40 hex. Keyed, so nobody without the server's key can link a reference to a customer id.
/// </summary>
internal static class CustomerReference
{
    public const int Bytes = 20;
    private static readonly byte[] Prefix = "tallystick/customer-reference/v1\n"u8.ToArray();

    public static byte[] Derive(byte[] planeKey, string customerId)
    {
        var message = new byte[Prefix.Length + Encoding.UTF8.GetByteCount(customerId)];
        Prefix.CopyTo(message, 0);
        Encoding.UTF8.GetBytes(customerId, message.AsSpan(Prefix.Length));
        return HMACSHA256.HashData(planeKey, message)[..Bytes];
    }

    public static string Format(byte[] reference) => "0x" + Convert.ToHexStringLower(reference);
}
