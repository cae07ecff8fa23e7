namespace Tallystick.Server.Deltas;

/// <summary>
/// What the sequencer has published, as one immutable snapshot: how far the log is sequenced, which prefix is
/// being integrated, and the latest durable signed checkpoint. A record's status follows from its leaf index:
/// below <see cref="CheckpointSize"/> VERIFIED, below <see cref="ProcessingSize"/> PROCESSING, else QUEUED.
/// <see cref="DeltasBelow"/>: every delta with a smaller id is durable (what <c>CustomerRows</c> may copy).
/// </summary>
internal sealed record LogHead(
    long SequencedSize,
    long ProcessingSize,
    long CheckpointSize,
    byte[] CheckpointRoot,
    string CheckpointNote,
    long CheckpointAtUnixMs,
    long OldestUnintegratedAtUnixMs,
    long DeltasBelow = 1)
{
    public string StatusOf(long leafIndex) =>
        leafIndex < CheckpointSize ? "VERIFIED" : leafIndex < ProcessingSize ? "PROCESSING" : "QUEUED";
}
