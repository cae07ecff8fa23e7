namespace Tallystick.Client;

/// <summary>The values of <c>status</c> in emit and record-status answers (compare with
/// <see cref="StringComparison.OrdinalIgnoreCase"/>; the official SDKs upper-case what they receive).</summary>
public static class DeltaStatuses
{
    /// <summary>Accepted and durable; not yet in a signed checkpoint.</summary>
    public const string Queued = "QUEUED";

    /// <summary>Being integrated into the transparency log.</summary>
    public const string Processing = "PROCESSING";

    /// <summary>A durable signed checkpoint covers the record. Terminal.</summary>
    public const string Verified = "VERIFIED";

    /// <summary>Verification failed (reserved by PacSpace; not produced by Tallystick). Terminal.</summary>
    public const string Failed = "FAILED";

    /// <summary>True for <see cref="Verified"/> and <see cref="Failed"/>, the statuses that never change again.
    /// </summary>
    public static bool IsTerminal(string? status) =>
        string.Equals(status, Verified, StringComparison.OrdinalIgnoreCase) ||
        string.Equals(status, Failed, StringComparison.OrdinalIgnoreCase);
}
