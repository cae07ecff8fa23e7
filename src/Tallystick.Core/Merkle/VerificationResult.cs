namespace Tallystick.Merkle;

/// <summary>
/// The outcome of a verification that is expected to fail on untrusted input (a Merkle proof, a signed note,
/// a checkpoint): either valid, or invalid with a human-readable reason such as
/// <c>"root mismatch: calculated 0x…, expected 0x…"</c>. Verifiers return this instead of throwing, so callers
/// can branch on <see cref="IsValid"/> and log <see cref="Error"/>. The default value is an invalid result
/// without a reason; use <see cref="Valid"/> and <see cref="Invalid"/> to create results.
/// </summary>
/// <param name="IsValid">True only when every check passed.</param>
/// <param name="Error">Why verification failed; null when <paramref name="IsValid"/> is true.</param>
public readonly record struct VerificationResult(bool IsValid, string? Error)
{
    /// <summary>The successful result (no error).</summary>
    public static VerificationResult Valid { get; } = new(IsValid: true, Error: null);

    /// <summary>Creates a failed result carrying the reason.</summary>
    /// <param name="error">A precise description of the first check that failed; must not be null or empty.</param>
    /// <returns>A result with <see cref="IsValid"/> false.</returns>
    /// <exception cref="ArgumentException"><paramref name="error"/> is null or empty.</exception>
    public static VerificationResult Invalid(string error)
    {
        ArgumentException.ThrowIfNullOrEmpty(error);
        return new VerificationResult(IsValid: false, Error: error);
    }

    /// <summary>Returns "valid" or "invalid: " followed by the reason, for logs and assertion messages.</summary>
    /// <returns>A one-line description of the result.</returns>
    public override string ToString() => IsValid ? "valid" : $"invalid: {Error}";
}
