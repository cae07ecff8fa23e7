using System.Security.Cryptography;
using Tallystick.Deltas;
using Tallystick.Server.Tenants;

namespace Tallystick.Server.Deltas;

/// <summary>
/// One request waiting for the sequencer: an emit (validated items) or, with <see cref="Append"/>, another
/// capability's write that anchors entries in the log (e.g. a period checkpoint), and how to answer.
/// </summary>
internal sealed class WorkItem(Plane plane, IReadOnlyList<ParsedItem> items, bool isBatch,
    string? idempotencyKey, byte[]? fingerprint)
{
    /// <summary>
    /// A non-emit write, run by the sequencer inside its transaction: it may read and insert its own rows through
    /// <see cref="LogAppendContext"/> and append log entries; it returns how to render its answer (rendered after
    /// the fsync). An exception it throws fails the whole group commit, like a failing emit.
    /// </summary>
    public static WorkItem ForAppend(Plane plane, Func<LogAppendContext, Func<Answer>> append) =>
        new(plane, [], false, null, null) { Append = append };

    public Func<LogAppendContext, Func<Answer>>? Append { get; private init; }

    public Plane Plane { get; } = plane;

    public IReadOnlyList<ParsedItem> Items { get; } = items;

    public bool IsBatch { get; } = isBatch;

    public string? IdempotencyKey { get; } = idempotencyKey;

    public byte[]? Fingerprint { get; } = fingerprint;

    public int DeltaCount => Items.Count;

    /// <summary>
    /// One fresh CSPRNG salt per item, drawn here in one call on the request's thread rather than per delta on
    /// the sequencer's (where it cost a tenth of its time).
    /// </summary>
    public byte[] Salts { get; } = items.Count == 0 ? [] : RandomNumberGenerator.GetBytes(items.Count * DeltaItem.SaltBytes);

    public ReadOnlyMemory<byte> Salt(int index) => Salts.AsMemory(index * DeltaItem.SaltBytes, DeltaItem.SaltBytes);

    public TaskCompletionSource<Answer> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A fully rendered HTTP answer (status and envelope bytes), as stored for Idempotency-Key replays.</summary>
internal sealed record Answer(int StatusCode, byte[] Body);

/// <summary>
/// What a <see cref="WorkItem.Append"/> write sees inside the sequencer's open transaction. Valid only during
/// that call, on the sequencer thread.
/// </summary>
internal sealed class LogAppendContext(Microsoft.Data.Sqlite.SqliteConnection connection,
    Microsoft.Data.Sqlite.SqliteTransaction transaction, long acceptedAtUnixMs, LogHead published, Func<byte[]?, long> append)
{
    public Microsoft.Data.Sqlite.SqliteConnection Connection { get; } = connection;

    public Microsoft.Data.Sqlite.SqliteTransaction Transaction { get; } = transaction;

    /// <summary>The transaction's acceptance time (never earlier than any earlier transaction's).</summary>
    public long AcceptedAtUnixMs { get; } = acceptedAtUnixMs;

    /// <summary>The head as published when the transaction began (what readers see as VERIFIED).</summary>
    public LogHead Published { get; } = published;

    /// <summary>The leaf index the next <see cref="AppendEntry"/> will get.</summary>
    public long NextLeafIndex => append(null);

    /// <summary>Appends a log entry in this transaction and returns its leaf index.</summary>
    public long AppendEntry(byte[] entry) => append(entry ?? throw new ArgumentNullException(nameof(entry)));
}

/// <summary>
/// What <see cref="Sequencer.OnCommit"/> sees: the open transaction, the log entries it sequences
/// [<see cref="SequencedFrom"/>, <see cref="SequencedTo"/>) and the entries it makes VERIFIED
/// [<see cref="VerifiedFrom"/>, <see cref="VerifiedTo"/>) (empty when no checkpoint is signed in it). Leaf indices
/// of records (records.leaf_index) and period checkpoints (period_checkpoints.leaf_index) fall in these ranges; both
/// tables grow in leaf order, so a reader can keep a rowid cursor instead of scanning.
/// </summary>
internal sealed record CommitContext(
    Microsoft.Data.Sqlite.SqliteConnection Connection,
    Microsoft.Data.Sqlite.SqliteTransaction Transaction,
    long SequencedFrom,
    long SequencedTo,
    long VerifiedFrom,
    long VerifiedTo,
    long NowUnixMs,
    string? CheckpointNote);
