using Tallystick.Notes;

namespace Tallystick.Proofs;

/// <summary>The checks of <see cref="ProofBundleVerifier.Verify"/>, in the order they run (docs/proof-spec.md
/// "Proof bundles" describes each).</summary>
public enum ProofBundleStep
{
    /// <summary>No step failed: the bundle verified.</summary>
    None,

    /// <summary>The bundle is malformed: wrong version, a missing member, bad hex or base64, a malformed
    /// tlog-proof.</summary>
    Format,

    /// <summary>The bundle names a log key other than the trusted one.</summary>
    LogKey,

    /// <summary>The item bytes do not say what the bundle displays (amount, reason, sequence, …), or are not
    /// a canonical v1 item.</summary>
    ItemFields,

    /// <summary>The item bytes do not hash to <c>itemHash</c>.</summary>
    ItemHash,

    /// <summary><c>itemPath</c> does not lead from <c>itemHash</c> to <c>receiptId</c>.</summary>
    ItemPath,

    /// <summary><c>logLeaf</c> is not the receipt entry of <c>receiptId</c> at <c>receivedAt</c>.</summary>
    LogLeaf,

    /// <summary>The tlog-proof's checkpoint is not validly signed by the trusted key for its origin.</summary>
    Checkpoint,

    /// <summary>The log entry is not included at <c>logIndex</c> in the checkpoint's tree.</summary>
    LogInclusion,
}

/// <summary>
/// The outcome of verifying a <see cref="ProofBundle"/>: valid with the checkpoint that proves it, or invalid with
/// the step that failed and a precise reason. Immutable.
/// </summary>
public sealed class ProofBundleVerification
{
    private ProofBundleVerification(ProofBundleStep failedStep, string? error, Checkpoint? checkpoint)
    {
        FailedStep = failedStep;
        Error = error;
        Checkpoint = checkpoint;
    }

    /// <summary>True only when every step passed.</summary>
    public bool IsValid => FailedStep == ProofBundleStep.None;

    /// <summary>The first step that failed; <see cref="ProofBundleStep.None"/> when valid.</summary>
    public ProofBundleStep FailedStep { get; }

    /// <summary>Why the step failed, e.g. <c>"amount: canonicalItem has \"-42.5\", the bundle shows \"-42.6\""</c>;
    /// null when valid.</summary>
    public string? Error { get; }

    /// <summary>The verified checkpoint whose tree includes the delta's log entry; null unless valid.</summary>
    public Checkpoint? Checkpoint { get; }

    /// <summary>"verified" or "failed at Step: reason", for logs and assertion messages.</summary>
    /// <returns>A one-line description.</returns>
    public override string ToString() => IsValid ? "verified" : $"failed at {FailedStep}: {Error}";

    internal static ProofBundleVerification Valid(Checkpoint checkpoint) => new(ProofBundleStep.None, null, checkpoint);

    internal static ProofBundleVerification Invalid(ProofBundleStep step, string error) => new(step, error, null);
}
