using Tallystick.Merkle;

namespace Tallystick.Core.Tests.Merkle;

// Byte-level assertions whose failure message carries a caller-supplied context (the seed, the size, the index),
// because xunit's Assert.Equal on arrays cannot.
internal static class HashAssert
{
    public static void Equal(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, string context)
    {
        Assert.True(expected.SequenceEqual(actual),
            $"{context}: expected {Convert.ToHexStringLower(expected)}, got {Convert.ToHexStringLower(actual)}");
    }

    public static void Equal(IReadOnlyList<byte[]> expected, IReadOnlyList<byte[]> actual, string context)
    {
        Assert.True(expected.Count == actual.Count,
            $"{context}: expected {expected.Count} hashes, got {actual.Count}: [{Join(actual)}]");
        for (int i = 0; i < expected.Count; i++)
        {
            Equal(expected[i], actual[i], $"{context}, element {i}");
        }
    }

    public static void Valid(VerificationResult result, string context)
    {
        Assert.True(result.IsValid, $"{context}: {result}");
    }

    public static void Invalid(VerificationResult result, string context)
    {
        Assert.False(result.IsValid, $"{context}: unexpectedly verified");
        Assert.False(string.IsNullOrEmpty(result.Error), $"{context}: invalid result without a reason");
    }

    private static string Join(IReadOnlyList<byte[]> hashes) =>
        string.Join(", ", hashes.Select(h => Convert.ToHexStringLower(h)));
}
