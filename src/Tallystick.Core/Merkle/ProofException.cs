namespace Tallystick.Merkle;

/// <summary>
/// Thrown by <see cref="MerkleProof.RootFromInclusionProof"/> when its input cannot describe a proof at all
/// (index not below size, wrong hash length, wrong number of proof elements). The message names the offending
/// value and what was expected. The <c>Verify*</c> methods never throw this; they return the same message in a
/// <see cref="VerificationResult"/>.
/// </summary>
public sealed class ProofException : Exception
{
    /// <summary>Creates an exception with a generic message.</summary>
    public ProofException()
        : base("malformed Merkle proof")
    {
    }

    /// <summary>Creates an exception whose message says precisely what is wrong with the proof.</summary>
    /// <param name="message">A description such as <c>"wrong proof size 2, want 3"</c>.</param>
    public ProofException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception that wraps the failure that made the proof unusable.</summary>
    /// <param name="message">A description of the malformed proof.</param>
    /// <param name="innerException">The underlying failure.</param>
    public ProofException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
