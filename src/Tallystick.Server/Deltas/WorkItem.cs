using Tallystick.Server.Tenants;

namespace Tallystick.Server.Deltas;

/// <summary>One emit request waiting for the sequencer: validated items and how to answer.</summary>
internal sealed class WorkItem(Plane plane, IReadOnlyList<ParsedItem> items, bool isBatch,
    string? idempotencyKey, byte[]? fingerprint)
{
    public Plane Plane { get; } = plane;

    public IReadOnlyList<ParsedItem> Items { get; } = items;

    public bool IsBatch { get; } = isBatch;

    public string? IdempotencyKey { get; } = idempotencyKey;

    public byte[]? Fingerprint { get; } = fingerprint;

    public int DeltaCount => Items.Count;

    public TaskCompletionSource<Answer> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A fully rendered HTTP answer (status and envelope bytes), as stored for Idempotency-Key replays.</summary>
internal sealed record Answer(int StatusCode, byte[] Body);
