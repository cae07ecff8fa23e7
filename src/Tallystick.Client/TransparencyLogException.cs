using Tallystick.Notes;

namespace Tallystick.Client;

/// <summary>Why the transparency log failed a <see cref="TransparencyLogMonitor"/> check.</summary>
public enum TransparencyLogFailure
{
    /// <summary>Not classified (only from the parameterless constructors).</summary>
    Unknown = 0,

    /// <summary>The checkpoint is not a well-formed note signed by the log key for the log's origin: a forgery, an
    /// altered note, another log's checkpoint, or the wrong key configured. Nothing was learnt about the log.
    /// </summary>
    CheckpointSignatureInvalid,

    /// <summary>The log's latest signed checkpoint is smaller than the one already verified: the log was rewound
    /// (history dropped), or a stale replica or cache answered. An append-only log never shrinks.</summary>
    TreeShrank,

    /// <summary>
    /// The log signed two histories that cannot both be true: a checkpoint of the same size with a different root,
    /// or a larger checkpoint whose (valid) consistency proof starts from a different root than the trusted one.
    /// Keep <see cref="TransparencyLogException.Trusted"/> and <see cref="TransparencyLogException.LatestNote"/>:
    /// together they are proof of the split view.
    /// </summary>
    Forked,

    /// <summary>The server's consistency proof does not prove that the latest checkpoint extends the trusted one:
    /// it is for other sizes or another root, malformed, or its hashes do not recompute the roots. The latest
    /// checkpoint is not trusted.</summary>
    ConsistencyProofInvalid,
}

/// <summary>
/// A transparency log check failed (<see cref="TransparencyLogMonitor"/>): the log, or the server answering for
/// it, is not behaving as an append-only log signed by its key. <see cref="Failure"/> says how; the trusted state
/// is unchanged. Transport failures while fetching are <see cref="TallyApiException"/>s instead. Immutable.
/// </summary>
public sealed class TransparencyLogException : Exception
{
    /// <summary>Creates an exception of kind <see cref="TransparencyLogFailure.Unknown"/>.</summary>
    public TransparencyLogException()
        : this("the transparency log check failed")
    {
    }

    /// <summary>Creates an exception of kind <see cref="TransparencyLogFailure.Unknown"/>.</summary>
    public TransparencyLogException(string message)
        : this(message, innerException: null)
    {
    }

    /// <summary>Creates an exception of kind <see cref="TransparencyLogFailure.Unknown"/>.</summary>
    public TransparencyLogException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception describing one failed check.</summary>
    /// <param name="failure">What failed.</param>
    /// <param name="message">The precise reason, with sizes and roots.</param>
    /// <param name="trusted">The checkpoint that was trusted before the check, if any.</param>
    /// <param name="latest">The latest checkpoint, when its signature verified.</param>
    /// <param name="latestNote">The latest signed note as received, when there was one.</param>
    public TransparencyLogException(TransparencyLogFailure failure, string message, Checkpoint? trusted,
        Checkpoint? latest, string? latestNote)
        : base(message)
    {
        Failure = failure;
        Trusted = trusted;
        Latest = latest;
        LatestNote = latestNote;
    }

    /// <summary>What failed.</summary>
    public TransparencyLogFailure Failure { get; }

    /// <summary>The checkpoint trusted before the check (unchanged by it); null on first use.</summary>
    public Checkpoint? Trusted { get; }

    /// <summary>The latest checkpoint, when its signature verified (so for every failure except
    /// <see cref="TransparencyLogFailure.CheckpointSignatureInvalid"/>).</summary>
    public Checkpoint? Latest { get; }

    /// <summary>The latest signed checkpoint note exactly as received, as evidence.</summary>
    public string? LatestNote { get; }
}
