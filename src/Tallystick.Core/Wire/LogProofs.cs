namespace Tallystick.Wire;

/// <summary>
/// Response data of <c>GET /log/proof/inclusion</c>: the RFC 9162 §2.1.3 inclusion proof of the leaf at
/// <see cref="Index"/> in the tree of <see cref="Size"/> leaves. Verify with
/// <c>MerkleProof.VerifyInclusion(Index, Size, LeafHash, Proof, RootHash)</c>, and trust <see cref="RootHash"/> only
/// through a signed checkpoint of that size (<see cref="Checkpoint"/>, or one the client already holds).
/// Hashes are <c>0x</c> + 64 lowercase hex.
/// </summary>
public sealed record InclusionProofResult
{
    /// <summary>The 0-based leaf index.</summary>
    public required long Index { get; init; }

    /// <summary>The tree size the proof is for.</summary>
    public required long Size { get; init; }

    /// <summary>The RFC 6962 leaf hash stored at <see cref="Index"/>.</summary>
    public required string LeafHash { get; init; }

    /// <summary>The RFC 6962 root of the first <see cref="Size"/> leaves.</summary>
    public required string RootHash { get; init; }

    /// <summary>The audit path, ordered from the leaf upward.</summary>
    public required IReadOnlyList<string> Proof { get; init; }

    /// <summary>The log's signed checkpoint of exactly <see cref="Size"/> leaves; omitted when the log never
    /// signed that size.</summary>
    public CheckpointInfo? Checkpoint { get; init; }
}

/// <summary>
/// Response data of <c>GET /log/proof/consistency</c>: the RFC 9162 §2.1.4 consistency proof that the tree of
/// <see cref="To"/> leaves extends the tree of <see cref="From"/> leaves. Verify with
/// <c>MerkleProof.VerifyConsistency(From, To, FromRootHash, ToRootHash, Proof)</c>. Hashes are <c>0x</c> + 64
/// lowercase hex.
/// </summary>
public sealed record ConsistencyProofResult
{
    /// <summary>The older tree size.</summary>
    public required long From { get; init; }

    /// <summary>The newer tree size.</summary>
    public required long To { get; init; }

    /// <summary>The root of the first <see cref="From"/> leaves.</summary>
    public required string FromRootHash { get; init; }

    /// <summary>The root of the first <see cref="To"/> leaves.</summary>
    public required string ToRootHash { get; init; }

    /// <summary>The proof hashes; empty when the sizes are equal or <see cref="From"/> is 0.</summary>
    public required IReadOnlyList<string> Proof { get; init; }

    /// <summary>The log's signed checkpoint of exactly <see cref="To"/> leaves; omitted when the log never signed
    /// that size.</summary>
    public CheckpointInfo? Checkpoint { get; init; }
}
